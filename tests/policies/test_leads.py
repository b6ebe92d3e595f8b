"""申报 items whose decisive conditions a department decides are leads (线索), not eligible: a run
lists them apart and never sums their ceilings; My policies, figures(year), the API and the pages
say the same. Other districts' items are reference material, never offered to a Yuexiu enterprise."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import duckdb
import pytest
import time_machine

from yuexiu.core.errors import DomainError
from yuexiu.policies import services
from yuexiu.policies.engine import reference, sql
from yuexiu.policies.engine.attributes import ATTRIBUTES, to_engine_row
from yuexiu.policies.engine.rules import load_rule_file
from yuexiu.policies.models import BenefitItem, Candidate, Enterprise, MatchRun, PolicyDocument

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEMO_USCC = "91440104MA5CYX1KXU"  # the enterprise of the verified enterprise_demo account

YUEXIU_RULES = """\
policy:
  code: lead-test-2026
  number: 测试〔2026〕2号
  title: 线索测试政策
  issuer: 广州市越秀区人民政府
  effective: 2026-01-01
  expires: 2026-12-31
  confidence: U
  illustration: false
items:
  - code: lead-test-01
    name: 测试：首店奖励（认定）
    mode: 申报
    department: 区科工商信局
    budget: 500万元
    versions:
      - eligibility:
          all:
            - {label: 注册地在越秀区, attr: district, op: "=", value: 越秀区}
            - {label: 经认定为品牌首店, manual: true}
        amount: {kind: maximum, formula: 50万元}
  - code: lead-test-02
    name: 测试：创新企业奖励（高新或认定）
    mode: 申报
    department: 区科工商信局
    budget: 500万元
    versions:
      - eligibility:
          all:
            - {label: 注册地在越秀区, attr: district, op: "=", value: 越秀区}
            - any:
                - {label: 属于高新技术企业, attr: tags, op: has, value: 高新技术企业}
                - {label: 经区科工商信局认定为创新企业, manual: true}
        amount: {formula: 10万元}
  - code: lead-test-03
    name: 测试：研发奖励（免申即享）
    mode: 免申即享
    department: 区科工商信局
    budget: 500万元
    versions:
      - eligibility:
          all:
            - {label: 注册地在越秀区, attr: district, op: "=", value: 越秀区}
            - {label: 有研发投入, attr: rd_expense, op: ">", value: 0元}
        amount: {formula: 1万元}
"""

TIANHE_RULES = """\
policy:
  code: th-test-2026
  number: 穗天测〔2026〕1号
  title: 天河区测试政策
  issuer: 广州市天河区人民政府
  effective: 2026-01-01
  expires: 2026-12-31
  confidence: M
  notes: 天河区测试政策的研究说明
items:
  - code: th-test-01
    name: 天河测试：商贸奖励（免申即享）
    mode: 免申即享
    department: 天河区商务局
    versions:
      - eligibility:
          all:
            - {label: 注册地在天河区或越秀区, attr: district, op: in, value: [天河区, 越秀区]}
        amount: {formula: 20万元}
  - code: th-test-02
    name: 天河测试：总部奖励（申报）
    mode: 申报
    department: 天河区人民政府
    versions:
      - eligibility:
          all:
            - {label: 注册地在天河区或越秀区, attr: district, op: in, value: [天河区, 越秀区]}
        amount: {kind: maximum, formula: 100万元}
"""


@pytest.fixture
def frozen():
    with time_machine.travel(datetime(2026, 3, 10, 10, tzinfo=SHANGHAI), tick=False) as traveller:
        yield traveller


@pytest.fixture
def run(frozen, cast, tmp_path):
    (tmp_path / "lead-test.yaml").write_text(YUEXIU_RULES, encoding="utf-8")
    (tmp_path / "th-test.yaml").write_text(TIANHE_RULES, encoding="utf-8")
    services.load_policy_library(tmp_path)
    Enterprise.objects.create(
        uscc=DEMO_USCC, name="示范科技有限公司", district="越秀区", tags=["高新技术企业"], rd_expense=Decimal("1000000")
    )
    Enterprise.objects.create(
        uscc="91440104MA5D00002A", name="无标签有限公司", district="越秀区", rd_expense=Decimal(500000)
    )
    Enterprise.objects.create(uscc="91440106MA5D00005R", name="天河有限公司", district="天河区", tags=["高新技术企业"])
    matched = MatchRun.objects.create(period=2026, as_of=date(2026, 3, 2), started_by=cast["policy_kgsxj"])
    return services.execute_run(matched.pk)


def _section(html: str, element_id: str, end: str) -> str:
    return html.split(f'id="{element_id}"')[1].split(end)[0]


def test_a_manual_condition_is_decisive_only_when_the_data_alone_do_not_decide():
    rules = load_rule_file(YUEXIU_RULES)
    context = reference.Context(period=2026, as_of=date(2026, 3, 2))
    tagged = to_engine_row({"district": "越秀区", "tags": ["高新技术企业"]}) | {"uscc": "A"}
    untagged = to_engine_row({"district": "越秀区"}) | {"uscc": "B"}
    tianhe = to_engine_row({"district": "天河区"}) | {"uscc": "C"}
    first, second = rules.items[0], rules.items[1]
    outcomes = {
        (item.code, row["uscc"]): (decision.eligible, decision.lead, decision.amount_fen)
        for item in (first, second)
        for row in (tagged, untagged, tianhe)
        if (decision := reference.decide(item.versions[0], row, context, item.code))
    }
    assert outcomes == {
        # the 首店 condition is in an all-group: the department always decides → a lead
        ("lead-test-01", "A"): (False, True, 50000000),
        ("lead-test-01", "B"): (False, True, 50000000),
        ("lead-test-01", "C"): (False, False, None),
        # an alternative to a tag the enterprise has is not decisive: the data decide → eligible
        ("lead-test-02", "A"): (True, False, 10000000),
        ("lead-test-02", "B"): (False, True, 10000000),
        ("lead-test-02", "C"): (False, False, None),
    }
    con = duckdb.connect()
    sql.create_registry_table(con)
    names = list(ATTRIBUTES)
    for number, row in enumerate((tagged, untagged, tianhe)):
        con.execute(
            f"INSERT INTO enterprises VALUES ({number}, {', '.join('?' for _ in names)})", [row[n] for n in names]
        )
    leads = {
        item.code: sql.decide_rows(con, sql.Job(0, item, item.versions[0]), period=2026, as_of=date(2026, 3, 2))
        for item in (first, second)
    }
    assert leads == {
        "lead-test-01": {0: (0, 50000000, True), 1: (0, 50000000, True)},
        "lead-test-02": {0: (0, 10000000, False), 1: (2, 10000000, True)},  # bit 1: B lacks the tag
    }


def test_a_run_counts_leads_apart_never_sums_their_ceilings_and_never_matches_other_districts(run, client, cast):
    assert run.status == "done", run.error
    assert (run.items, run.pairs, run.leads, run.candidates) == (3, 3, 3, 2)
    real = {"illustration": False, "validity_recorded": True}
    assert run.by_item == {
        "lead-test-01": {"pairs": 0, "amount_fen": 0, "leads": 2, "mode": "申报", "in_force": True, "ceiling": True}
        | real,
        "lead-test-02": {
            "pairs": 1,
            "amount_fen": 10000000,
            "leads": 1,
            "mode": "申报",
            "in_force": True,
            "ceiling": False,
        }
        | real,
        "lead-test-03": {
            "pairs": 2,
            "amount_fen": 2000000,
            "leads": 0,
            "mode": "免申即享",
            "in_force": True,
            "ceiling": False,
        }
        | real,
    }
    # The Tianhe 免申即享 item's data hold for both Yuexiu enterprises: still nobody is offered it.
    assert set(Candidate.objects.values_list("item__code", "enterprise__name")) == {
        ("lead-test-03", "示范科技有限公司"),
        ("lead-test-03", "无标签有限公司"),
    }
    client.force_login(cast["policy_kgsxj"])
    page = client.get(f"/workbench/policies/runs/{run.pk}/").content.decode()
    assert "另有申报线索 3 个（是否符合由主管部门认定，另计，不计金额）" in page
    first = page.split("测试：首店奖励（认定）")[1].split("</tr>")[0]
    assert "上限合计" not in first and "1,000,000.00元" not in first  # 2 × 50万元 never summed
    assert "<td>—</td><td>2</td>" in first
    assert "天河测试" not in page
    body = client.get(f"/api/v1/policies/runs/{run.pk}").json()
    assert (body["pairs"], body["leads"]) == (3, 3)


def test_figures_of_the_year_count_leads_apart_and_items_of_other_districts_as_reference(run, client):
    figures = services.figures(2026)
    assert (figures["items"], figures["other_district_items"], figures["eligible_pairs"], figures["leads"]) == (
        3,
        2,
        3,
        3,
    )
    assert services.figures(2025)["leads"] == 0  # no run of 2025
    body = client.get("/api/v1/policies/figures?year=2026").json()
    assert (body["items"], body["other_district_items"], body["eligible_pairs"], body["leads"]) == (3, 2, 3, 3)


def test_my_policies_lists_leads_apart_and_never_offers_another_districts_item(run, client, cast):
    client.force_login(cast["enterprise_demo"])
    html = client.get("/policies/mine/").content.decode()
    eligible = _section(html, "my-eligible", "</ul>")
    leads = _section(html, "my-leads", "</ul>")
    assert "测试：创新企业奖励（高新或认定）" in eligible and "测算 100,000.00元" in eligible
    assert "测试：首店奖励（认定）" in leads and "须主管部门认定：经认定为品牌首店" in leads
    assert "测试：首店奖励（认定）" not in eligible and "500,000.00元" not in leads
    assert "符合条件的事项 1 个；可申报的线索 1 个" in html
    assert "天河测试" not in html


def test_the_api_precheck_says_lead_and_refuses_another_districts_item(run, client, cast):
    client.force_login(cast["enterprise_demo"])
    lead = client.get("/api/v1/policies/items/lead-test-01/precheck").json()
    assert (lead["eligible"], lead["lead"]) == (False, True)
    assert [(c["used"], c["passed"]) for c in lead["conditions"]] == [
        ("注册地：越秀区", True),
        ("由主管部门审核认定", None),
    ]
    decided = client.get("/api/v1/policies/items/lead-test-02/precheck").json()
    assert (decided["eligible"], decided["lead"], decided["amount_fen"]) == (True, False, 10000000)
    refused = client.get("/api/v1/policies/items/th-test-02/precheck")
    assert refused.status_code == 400
    assert refused.json()["message"] == "该事项是天河区的政策，仅供参考，不对越秀区企业预检。"


def test_an_enterprise_applies_for_a_lead_but_not_for_another_districts_item(run, cast):
    user = cast["enterprise_demo"]
    first = BenefitItem.objects.get(code="lead-test-01")
    candidate = services.apply(item_id=first.pk, user=user, declarations=["经认定为品牌首店"])
    assert (candidate.source, candidate.engine_amount_fen, candidate.declarations) == (
        "application",
        50000000,
        ["经认定为品牌首店"],
    )
    assert services.explain(candidate).reproduced
    tianhe = BenefitItem.objects.get(code="th-test-02")
    with pytest.raises(DomainError, match="天河区政策，仅供参考，不适用于越秀区企业"):
        services.apply(item_id=tianhe.pk, user=user, declarations=[])
    assert Candidate.objects.filter(item=tianhe).count() == 0


def test_the_library_shows_other_districts_items_apart_as_reference(run, client, cast):
    assert PolicyDocument.objects.get(code="th-test-2026").other_district == "天河区"
    html = client.get("/policies/").content.decode()
    main = _section(html, "policy-items", "</table>")
    reference_list = _section(html, "reference-items", "</table>")
    assert "天河测试" not in main and "测试：首店奖励（认定）" in main
    assert "天河测试：商贸奖励（免申即享）" in reference_list and "<td>天河区</td>" in reference_list
    assert "其他区政策参考" in html
    client.force_login(cast["enterprise_demo"])
    item = client.get("/policies/items/th-test-01/").content.decode()
    assert "其他区政策参考：本事项是天河区的政策" in item
    assert 'id="precheck"' not in item and 'id="apply-form"' not in item


def test_a_rule_file_may_name_its_district_and_otherwise_it_is_read_from_the_issuer_and_departments():
    assert load_rule_file(TIANHE_RULES).other_district == "天河区"
    assert load_rule_file(YUEXIU_RULES).other_district == ""
    by_department = TIANHE_RULES.replace("issuer: 广州市天河区人民政府", "issuer: 某管委会")
    assert load_rule_file(by_department).other_district == "天河区"
    nansha = TIANHE_RULES.replace("广州市天河区人民政府", "广州南沙开发区管委会办公室").replace("天河区商务局", "某局")
    assert load_rule_file(nansha.replace("department: 天河区人民政府", "department: 某局")).other_district == "南沙区"
    written = YUEXIU_RULES.replace("  illustration: false\n", "  illustration: false\n  district: 黄埔区\n")
    assert load_rule_file(written).other_district == "黄埔区"
