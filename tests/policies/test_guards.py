"""Guards found by a new user's trial: who may edit which rules, runs that cannot block matching or
mismatch their year, amounts typed by people, one-off awards approved once across periods, rule
files with duplicate keys, impossible dates, unsafe links or unitless money."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from yuexiu.core.errors import Conflict, DomainError, PermissionDeniedError
from yuexiu.policies import services
from yuexiu.policies.engine.rules import RuleFileError, load_rule_file
from yuexiu.policies.models import BenefitItem, Candidate, Enterprise, MatchRun, RunStatus

RULES = Path(__file__).parent / "rules"
TEXT = (RULES / "loop-policy.yaml").read_text(encoding="utf-8")


@pytest.fixture
def library(cast):
    services.load_policy_library(RULES)
    return cast


def test_an_officer_edits_only_the_rules_of_their_departments_items(library):
    with pytest.raises(PermissionDeniedError, match="无权修改其规则"):
        services.save_rule_file(
            text=TEXT.replace("25万元", "1亿元"), user=library["policy_rsj"], policy_code="loop-test-2025"
        )
    services.load_policy_library()  # the seed library, whose items belong to other policies
    takeover = TEXT.replace("code: loop-test-2025-02", "code: yx-illustrations-01")
    with pytest.raises(Conflict, match="属于政策“yx-illustrations”"):
        services.save_rule_file(text=takeover, user=library["policy_kgsxj"], policy_code="loop-test-2025")
    with pytest.raises(DomainError, match="不是本区单位"):
        services.save_rule_file(
            text=TEXT.replace(
                "department: 区科工商信局\n    budget: 100万元", "department: 区不存在局\n    budget: 100万元"
            ),
            user=library["policy_kgsxj"],
            policy_code="loop-test-2025",
        )
    with pytest.raises(DomainError, match="没有改动"):
        services.save_rule_file(text=TEXT, user=library["policy_kgsxj"], policy_code="loop-test-2025")
    assert BenefitItem.objects.get(code="yx-illustrations-01").policy.code == "yx-illustrations"


def test_a_run_must_fall_in_its_year_and_a_stale_run_does_not_block_matching(library):
    officer = library["policy_kgsxj"]
    with pytest.raises(DomainError, match="不在所属年度"):
        services.create_run(user=officer, period=2027, as_of=date(2026, 11, 30))
    with pytest.raises(DomainError, match="不能晚于今天"):
        tomorrow = timezone.localdate() + timedelta(days=1)
        services.create_run(user=officer, period=tomorrow.year, as_of=tomorrow)
    stuck = services.create_run(user=officer, period=2026, as_of=date(2026, 11, 30))
    with pytest.raises(Conflict, match="尚未完成"):
        services.create_run(user=officer, period=2026, as_of=date(2026, 11, 30))
    MatchRun.objects.filter(pk=stuck.pk).update(
        status=RunStatus.RUNNING, updated_at=timezone.now() - timedelta(minutes=16)
    )
    fresh = services.create_run(user=officer, period=2026, as_of=date(2026, 11, 30))
    stuck.refresh_from_db()
    assert (stuck.status, fresh.status) == (RunStatus.FAILED, RunStatus.QUEUED)
    assert "后台任务中断" in stuck.error
    with pytest.raises(PermissionDeniedError):
        services.create_run(user=library["citizen_demo"], period=2026, as_of=date(2026, 11, 30))


@pytest.mark.parametrize(
    ("typed", "fen"),
    [
        ("12000.5", 1200050),
        ("12,000.50", 1200050),
        ("１２３", 12300),
        ("0.01", 1),
        ("999999999999.99", 99999999999999),
        ("60万元", 60000000),
        ("60 万", 60000000),
        ("1.5亿元", 15000000000),
        ("600,000元", 60000000),
    ],
)
def test_amounts_typed_by_people(typed, fen):
    assert services.fen_from_text(typed) == fen


@pytest.mark.parametrize(
    "typed", ["NaN", "Infinity", "1e5", "1,2,3", "-1", "1.001", "", "1000000000000", "12,00", "60万美元", "60万5千"]
)
def test_amounts_that_are_refused(typed):
    with pytest.raises(DomainError):
        services.fen_from_text(typed)


def test_a_one_off_award_is_approved_once_even_across_periods(library):
    officer = library["policy_kgsxj"]
    ever = TEXT.replace("not_granted: year", "not_granted: ever").replace("expires: 2026-12-31", "expires: 2027-12-31")
    services.save_rule_file(text=ever, user=officer, policy_code="loop-test-2025")
    Enterprise.objects.create(
        uscc="91440104MA5CYX1KXU", name="示范", district="越秀区", credit_status="良好", rd_expense=Decimal("1200000")
    )
    for as_of in (date(2025, 6, 30), date(2026, 3, 2)):
        run = services.create_run(user=officer, period=as_of.year, as_of=as_of)
        services.execute_run(run.pk)
    first, second = Candidate.objects.order_by("period")
    assert (first.period, second.period) == (2025, 2026)  # both matched while neither was granted
    services.review(candidate_id=first.pk, user=officer, approve=True)
    with pytest.raises(Conflict, match="2025年已获"):
        services.review(candidate_id=second.pk, user=officer, approve=True)


def test_an_item_without_a_fund_pool_takes_no_application(library):
    Enterprise.objects.create(uscc="91440104MA5CYX1KXU", name="示范", district="越秀区")
    item = BenefitItem.objects.get(code="loop-test-2025-02")
    item.fund_pool.delete()
    with pytest.raises(DomainError, match="尚未安排资金"):
        services.apply(item_id=item.pk, user=library["enterprise_demo"], declarations=["门店为新开设的品牌首店"])


def _problems(text: str) -> list[tuple[int, str]]:
    with pytest.raises(RuleFileError) as error:
        load_rule_file(text)
    return error.value.problems


def test_rule_files_with_duplicate_keys_bad_dates_unsafe_links_or_unitless_money_are_refused():
    assert _problems(
        TEXT.replace("  title: 测试用政策（流程测试）\n", "  title: 测试用政策（流程测试）\n  title: 另一个标题\n")
    ) == [(5, "字段“title”重复（第4行已有）")]
    assert _problems(TEXT.replace("effective: 2025-01-01", "effective: 2025-02-30"))[0] == (
        6,
        "“effective”应为日期，如 2025-01-01，实际为“2025-02-30”",
    )
    assert _problems(TEXT.replace("confidence: U\n", "confidence: U\n  source_url: javascript:alert(1)\n"))[0][1] == (
        "“source_url”应为 http:// 或 https:// 开头的网址"
    )
    assert "应写明单位" in _problems(TEXT.replace("formula: 50万元", "formula: 500000"))[0][1]
    assert "数字过大" in _problems(TEXT.replace("formula: 50万元", "formula: 99999999999999999999亿元"))[0][1]
    assert "1 万亿元" in _problems(TEXT.replace("budget: 25万元", "budget: 99999999999亿元"))[0][1]
    assert _problems("policy: [\n")[0][1] == "YAML 格式错误（第1列附近）：请检查缩进、冒号、引号和括号是否配对"


def test_an_unverified_enterprise_account_sees_no_registry_data_and_cannot_claim(client, library):
    from yuexiu.core.models import User

    Enterprise.objects.create(
        uscc="91440104MA5CYX1KXU", name="示范", district="越秀区", revenue=Decimal("69601.61"), credit_status="良好"
    )
    User.objects.filter(username="enterprise_demo").update(enterprise_verified=False)
    user = User.objects.get(username="enterprise_demo")
    client.force_login(user)
    html = client.get("/policies/mine/").content.decode()
    assert "尚未完成企业身份核验" in html and "69,601.61" not in html
    assert client.get("/api/v1/policies/items/loop-test-2025-02/precheck").status_code == 403
    item = BenefitItem.objects.get(code="loop-test-2025-02")
    with pytest.raises(PermissionDeniedError, match="身份核验"):
        services.apply(item_id=item.pk, user=user, declarations=["门店为新开设的品牌首店"])


def test_a_shared_rule_file_lets_each_department_change_only_its_own_items(library):
    # The file has items of two departments (set up as an administrator's import would).
    shared = TEXT.replace("department: 区科工商信局\n    budget: 100万元", "department: 区人社局\n    budget: 100万元")
    services._store_rule_file(load_rule_file(shared), shared, None)
    with pytest.raises(PermissionDeniedError, match="由区人社局管理"):  # nor takes one back
        services.save_rule_file(
            text=TEXT.replace("budget: 100万元", "budget: 90万元"),
            user=library["policy_kgsxj"],
            policy_code="loop-test-2025",
        )
    # Now 区人社局 changes its own item's budget, leaving 区科工商信局's item as it is: allowed.
    services.save_rule_file(
        text=shared.replace("budget: 100万元", "budget: 120万元"),
        user=library["policy_rsj"],
        policy_code="loop-test-2025",
    )
    # …but not the other department's item, nor the policy header.
    with pytest.raises(PermissionDeniedError, match="由区科工商信局管理"):
        services.save_rule_file(
            text=shared.replace("budget: 100万元", "budget: 120万元").replace("cap: 15万元", "cap: 20万元"),
            user=library["policy_rsj"],
            policy_code="loop-test-2025",
        )
    with pytest.raises(PermissionDeniedError):
        services.save_rule_file(
            text=shared.replace("budget: 100万元", "budget: 120万元").replace("confidence: U", "confidence: L"),
            user=library["policy_rsj"],
            policy_code="loop-test-2025",
        )
    assert BenefitItem.objects.get(code="loop-test-2025-02").fund_pool.budget_fen == 120_000_000


def test_a_candidate_whose_data_changed_is_refreshed_or_approved_knowingly(library):
    officer = library["policy_kgsxj"]
    Enterprise.objects.create(
        uscc="91440104MA5CYX1KXU", name="示范", district="越秀区", credit_status="良好", rd_expense=Decimal("1200000")
    )
    run = services.create_run(user=officer, period=2026, as_of=date(2026, 3, 2))
    services.execute_run(run.pk)
    candidate = Candidate.objects.get()
    Enterprise.objects.filter(uscc="91440104MA5CYX1KXU").update(rd_expense=Decimal("1100000"))
    with pytest.raises(Conflict, match="测算为 110,000.00元"):
        services.review(candidate_id=candidate.pk, user=officer, approve=True)
    refreshed = services.refresh(candidate_id=candidate.pk, user=officer)
    assert (refreshed.engine_amount_fen, refreshed.snapshot["rd_expense"]) == (11000000, "1100000.00")
    services.review(candidate_id=candidate.pk, user=officer, approve=True)
    Enterprise.objects.create(
        uscc="91440104MA5D000020", name="另一家", district="越秀区", credit_status="良好", rd_expense=Decimal("1200000")
    )
    services.execute_run(services.create_run(user=officer, period=2026, as_of=date(2026, 3, 2)).pk)
    other = Candidate.objects.get(enterprise__name="另一家")
    Enterprise.objects.filter(name="另一家").update(credit_status="严重失信")
    services.review(
        candidate_id=other.pk, user=officer, approve=True, confirm_stale=True, note="失信记录在匹配基准日之后产生"
    )
    assert Candidate.objects.get(pk=other.pk).approved_fen == 12000000


def test_notices_never_go_to_an_unverified_account_claiming_the_code(library):
    from yuexiu.core.models import OutboxMessage
    from yuexiu.core.services import register_enterprise_user

    register_enterprise_user(
        username="claimant",
        password="Str0ng#Passw0rd!",
        full_name="冒名",
        enterprise_uscc="91440104MA5CYX1KXU",
        enterprise_name="示范",
        phone="13700137000",
    )
    Enterprise.objects.create(
        uscc="91440104MA5CYX1KXU", name="示范", district="越秀区", credit_status="良好", rd_expense=Decimal("1200000")
    )
    services.execute_run(services.create_run(user=library["policy_kgsxj"], period=2026, as_of=date(2026, 3, 2)).pk)
    assert list(OutboxMessage.objects.values_list("recipient__username", flat=True)) == ["enterprise_demo"]


def test_rule_files_with_far_relative_dates_or_sub_cent_money_are_refused():
    far = TEXT.replace(
        '{label: 注册地在越秀区, attr: district, op: "=", value: 越秀区}',
        '{label: 成立, attr: established_on, op: ">=", value: period_start - 9000y}',
        1,
    )
    assert "最多 99 年" in _problems(far)[0][1]
    assert "最多精确到分" in _problems(TEXT.replace("budget: 25万元", "budget: 0.001元"))[0][1]
    assert "1 万亿元" in _problems(TEXT.replace("budget: 25万元", "budget: 99999999999999999999999999亿元"))[0][1]
