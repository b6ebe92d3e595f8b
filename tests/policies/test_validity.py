"""An unknown validity is not "forever": a document whose effective or expiry date the source did not
print (null) is matched on no day — not in 2030, not today — until an officer records its validity
from the document, with the clause cited; from then on it is matched within the recorded period only.
Staff see such documents as 有效期待核实 with the way to record it; the public reads the same words."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from yuexiu.core.errors import DomainError, PermissionDeniedError
from yuexiu.core.models import AuditEvent
from yuexiu.policies import services
from yuexiu.policies.engine import sql, testing
from yuexiu.policies.engine.rules import load_rule_file, with_validity
from yuexiu.policies.models import BenefitItem, Candidate, Enterprise, MatchRun, PolicyDocument, RuleFile

RULES = Path(__file__).parent / "rules"
SEED = Path(__file__).resolve().parents[2] / "src" / "yuexiu" / "policies" / "data" / "rules"
DEMO_USCC = "91440104MA5CYX1KXU"
TODAY = date(2026, 12, 2)  # the tests' frozen clock
# The fixture policy as a source that printed neither date.
UNDATED = (
    (RULES / "loop-policy.yaml")
    .read_text(encoding="utf-8")
    .replace("effective: 2025-01-01", "effective: null")
    .replace("expires: 2026-12-31", "expires: null")
)
SOURCE = "测试〔2025〕1号 第十条：本办法自2026年1月1日起施行，有效期至2026年6月30日"


def test_a_null_date_means_no_day_at_all_until_the_validity_is_recorded():
    item = load_rule_file(UNDATED).items[0]
    for day in (date(2020, 1, 1), TODAY, date(2030, 6, 30)):
        assert item.version_on(day) is None, day
    # Rule tests still check the conditions and amounts on any day (an unknown date bounds nothing there).
    assert item.version_covering(date(2030, 6, 30)) is item.versions[0]

    recorded = load_rule_file(
        with_validity(UNDATED, effective=date(2026, 1, 1), expires=date(2026, 6, 30), source=SOURCE)
    )
    item = recorded.items[0]
    assert (recorded.validity_text, recorded.validity_source) == ("2026-01-01 至 2026-06-30", SOURCE)
    assert [item.version_on(day) is not None for day in (date(2025, 12, 31), date(2026, 1, 1))] == [False, True]
    assert [item.version_on(day) is not None for day in (date(2026, 6, 30), date(2026, 7, 1))] == [True, False]
    assert item.version_on(date(2030, 6, 30)) is None

    open_ended = load_rule_file(with_validity(UNDATED, effective=date(2026, 1, 1), expires=None, source=SOURCE))
    assert open_ended.validity_text == "2026-01-01 起长期有效"
    assert open_ended.items[0].version_on(date(2030, 6, 30)) is not None


def test_the_engine_skips_an_undated_document_in_2030_and_today(tmp_path):
    items = load_rule_file(UNDATED).items
    con = duckdb.connect()
    sql.create_registry_table(con)
    con.execute(
        "INSERT INTO enterprises (row_id, uscc, district, rd_expense, credit_status) "
        "VALUES (1, 'A', '越秀区', 2000000, '良好')"
    )
    for day in (TODAY, date(2030, 6, 30)):
        result = sql.match(con, items, period=day.year, as_of=day, out_dir=tmp_path)
        assert (result.pairs, result.leads, result.skipped) == (0, 0, ["loop-test-2025-01", "loop-test-2025-02"])


def test_no_seed_document_with_an_unprinted_date_is_in_force_in_2030_or_today():
    undated = [policy for policy in testing.load_library(SEED) if not policy.validity_recorded]
    assert len(undated) >= 4
    assert {"gz-zjtx-2025", "gz-finance-2023", "yx-diamond29-2018", "gd-smallup-2025"} <= {p.code for p in undated}
    for policy in undated:
        for item in policy.items:
            assert item.version_on(date(2030, 6, 30)) is None and item.version_on(TODAY) is None, item.code


@pytest.fixture
def undated(tmp_path, cast):
    (tmp_path / "loop-policy.yaml").write_text(UNDATED, encoding="utf-8")
    services.load_policy_library(tmp_path)
    for uscc, name, rd in (
        (DEMO_USCC, "示范科技有限公司", "1200000.00"),
        ("91440104MA5D00004Y", "多一元有限公司", "1000001.00"),
    ):
        Enterprise.objects.create(uscc=uscc, name=name, district="越秀区", credit_status="良好", rd_expense=Decimal(rd))
    return cast


def _run(user, as_of: date) -> MatchRun:
    run = MatchRun.objects.create(period=as_of.year, as_of=as_of, started_by=user)
    return services.execute_run(run.pk)


def test_a_run_matches_the_document_only_within_the_validity_an_officer_recorded(undated):
    officer = undated["policy_kgsxj"]
    for day in (date(2026, 3, 2), TODAY):
        run = _run(officer, day)
        row = run.by_item["loop-test-2025-01"]
        assert (run.items, run.pairs, run.candidates, row["in_force"], row["validity_recorded"]) == (
            0,
            0,
            0,
            False,
            False,
        )
    assert services.figures()["validity_pending_items"] == 2
    assert [p.code for p in services.list_validity_pending(officer)] == ["loop-test-2025"]

    saved = services.record_validity(
        policy_code="loop-test-2025",
        user=officer,
        effective=date(2026, 1, 1),
        expires=date(2026, 6, 30),
        open_ended=False,
        source=SOURCE,
    )
    policy = PolicyDocument.objects.get(code="loop-test-2025")
    assert (policy.effective, policy.expires, policy.validity_source, policy.validity_recorded) == (
        date(2026, 1, 1),
        date(2026, 6, 30),
        SOURCE,
        True,
    )
    assert saved.revision == 2 and saved.created_by == officer
    event = AuditEvent.objects.get(action="policies.validity_recorded")
    assert event.changes["source"] == SOURCE and event.changes["expires"] == "2026-06-30"
    assert services.list_validity_pending(officer) == [] and services.figures()["validity_pending_items"] == 0

    within = _run(officer, date(2026, 3, 2))
    assert (within.items, within.pairs, within.candidates) == (2, 2, 2)
    after = _run(officer, date(2026, 7, 1))
    assert (after.items, after.pairs, after.by_item["loop-test-2025-01"]["in_force"]) == (0, 0, False)


def test_recording_is_refused_without_a_source_with_impossible_dates_or_by_another_department(undated):
    officer = undated["policy_kgsxj"]

    def record(**changes):
        values = {"effective": date(2026, 1, 1), "expires": date(2026, 6, 30), "open_ended": False, "source": SOURCE}
        values = {"user": officer} | values | changes
        return services.record_validity(policy_code="loop-test-2025", **values)

    refusals = [
        ({"source": " "}, "请写明依据"),
        ({"effective": None}, "请填写生效日期"),
        ({"expires": None}, "请勾选“长期有效”"),
        ({"open_ended": True}, "不能同时勾选“长期有效”"),
        ({"expires": date(2025, 12, 31)}, "失效日期早于生效日期"),
        ({"effective": date(1900, 1, 1)}, "生效日期应在 1949—2100 年之间"),
        ({"source": "依据" * 200}, "有效期依据"),
    ]
    for changes, reason in refusals:
        with pytest.raises(DomainError, match=reason):
            record(**changes)
    with pytest.raises(PermissionDeniedError):  # 区人社局's officer: the items are 区科工商信局's
        record(user=undated["policy_rsj"])
    # A rule version dated before the recorded start cannot stand: nothing is saved, the officer is told.
    dated = UNDATED.replace(
        "    versions:\n      - eligibility:", "    versions:\n      - valid_from: 2025-06-01\n        eligibility:", 1
    )
    services.save_rule_file(text=dated, user=officer, policy_code="loop-test-2025")
    with pytest.raises(DomainError, match="与规则文件不一致（规则版本早于政策生效日期）"):
        record()
    assert RuleFile.objects.filter(policy__code="loop-test-2025").count() == 2
    assert PolicyDocument.objects.get(code="loop-test-2025").effective is None
    assert not AuditEvent.objects.filter(action="policies.validity_recorded").exists()


def test_another_districts_document_is_not_recorded_here(cast):
    services.load_policy_library(SEED)
    with pytest.raises(DomainError, match="天河区的政策，仅供参考"):
        services.record_validity(
            policy_code="th-hq-2020",
            user=cast["policy_kgsxj"],
            effective=date(2020, 11, 13),
            expires=None,
            open_ended=True,
            source="穗天府规〔2020〕3号",
        )


def test_no_application_and_no_approval_while_the_validity_is_not_recorded(undated):
    officer, enterprise_user = undated["policy_kgsxj"], undated["enterprise_demo"]
    item = BenefitItem.objects.get(code="loop-test-2025-02")
    with pytest.raises(DomainError, match="该事项暂不受理申报：有效期待核实，主管部门按文件核实有效期前不受理。"):
        services.apply(item_id=item.pk, user=enterprise_user, declarations=["门店为新开设的品牌首店"])
    # A candidate decided while the dates were recorded; then a revision sets them back to unknown.
    recorded = with_validity(UNDATED, effective=date(2026, 1, 1), expires=date(2026, 6, 30), source=SOURCE)
    services.save_rule_file(text=recorded, user=officer, policy_code="loop-test-2025")
    _run(officer, date(2026, 3, 2))
    candidate = Candidate.objects.get(enterprise__uscc=DEMO_USCC)
    services.save_rule_file(text=UNDATED, user=officer, policy_code="loop-test-2025")
    with pytest.raises(DomainError, match="有效期待核实"):
        services.review(candidate_id=candidate.pk, user=officer, approve=True)
    candidate.refresh_from_db()
    assert (candidate.status, candidate.approved_fen) == ("pending_review", None)


def test_the_workbench_lists_the_document_and_the_officer_records_it_on_its_page(client, undated):
    client.force_login(undated["policy_kgsxj"])
    workbench = client.get("/workbench/policies/").content.decode()
    pending = workbench.split('id="validity-pending"')[1].split("</ul>")[0]
    assert "测试用政策（流程测试）" in pending and "/workbench/policies/validity/loop-test-2025/" in pending
    item = client.get("/policies/items/loop-test-2025-01/").content.decode()
    assert "有效期待核实（生效日期、失效日期未载明）" in item and "/workbench/policies/validity/loop-test-2025/" in item
    page = client.get("/workbench/policies/validity/loop-test-2025/")
    assert page.status_code == 200 and "未载明的日期不等于长期有效" in page.content.decode()

    refused = client.post(
        "/workbench/policies/validity/loop-test-2025/", {"effective": "2026-01-01", "expires": "2026-06-30"}
    )
    assert refused.status_code == 400 and "请写明依据" in refused.content.decode()
    assert AuditEvent.objects.filter(action="policies.validity_refused").count() == 1
    bad_date = client.post(
        "/workbench/policies/validity/loop-test-2025/", {"effective": "2026-02-30", "source": SOURCE}
    )
    assert bad_date.status_code == 400 and "请按 2025-08-23 的格式填写日期" in bad_date.content.decode()

    done = client.post(
        "/workbench/policies/validity/loop-test-2025/",
        {"effective": "2026-01-01", "expires": "2026-06-30", "source": SOURCE},
        follow=True,
    )
    assert "已记录“测试用政策（流程测试）”的有效期：2026-01-01 至 2026-06-30（规则第 2 版）" in done.content.decode()
    assert 'id="validity-pending"' not in done.content.decode()
    item = client.get("/policies/items/loop-test-2025-01/").content.decode()
    assert "2026-01-01 至 2026-06-30（当前不在有效期内）" in item and f"依据：{SOURCE}" in item
    client.logout()
    public = client.get("/policies/items/loop-test-2025-01/").content.decode()
    assert "2026-01-01 至 2026-06-30" in public and SOURCE not in public
    api = client.get("/api/v1/policies/items/loop-test-2025-01").json()
    assert (api["validity"], api["validity_recorded"], api["notice"]) == ("2026-01-01 至 2026-06-30", True, "")


def test_the_public_reads_validity_pending_in_the_library_and_the_api(client, undated):
    library = client.get("/policies/").content.decode()
    row = library.split("测试：研发投入奖励")[1].split("</tr>")[0]
    assert "有效期待核实" in row
    api = client.get("/api/v1/policies/items/loop-test-2025-01").json()
    assert (api["validity"], api["validity_recorded"], api["in_force"]) == (
        "有效期待核实（生效日期、失效日期未载明）",
        False,
        False,
    )
    assert api["notice"].startswith("有效期待核实：来源未载明文件的生效或失效日期")
