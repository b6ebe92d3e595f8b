"""What the public and enterprises see of the library: no research notes, confidence marks or
researchers' remarks (staff pages and the staff API still show them); and the "所用数据" of an
explanation is the value each condition read, named, not the enterprise's whole record."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from yuexiu.policies import demo, services
from yuexiu.policies.engine.rules import load_rule_file
from yuexiu.policies.models import BenefitItem, Candidate, Enterprise, MatchRun

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Research notes of one real item (yx-finance-2019-01) and its policy, as the seed library has them.
FINANCE_NOTES = (
    "本办法各奖励事项都要同时满足的通用门槛",  # the item's notes
    "统一编号 YX0120190010",  # the policy's notes
    "须到 gz.gov.cn 或 yuexiu.gov.cn 读原文后补录",  # why the award was not entered
    "元数据所列发布机关",  # a remark in the issuer
    "奖励条文在第二条之后",  # "未读到（…）" as the award text
)


@pytest.fixture
def frozen():
    with time_machine.travel(datetime(2025, 6, 18, 10, tzinfo=SHANGHAI), tick=False) as traveller:
        yield traveller


@pytest.fixture
def library(frozen, cast):
    services.load_policy_library()
    demo.ensure_demo_enterprise()
    return cast


def _research_texts() -> list[str]:
    """Every note, every reason an award was not entered, of every item and policy (long enough to
    be unmistakable)."""
    texts = []
    for item in BenefitItem.objects.select_related("policy"):
        for text in (item.notes, item.policy.notes, item.incomplete):
            texts.extend(line.strip() for line in text.splitlines() if len(line.strip()) >= 12)
    return sorted(set(texts))


def _pages(client) -> str:
    pages = [client.get("/policies/"), client.get("/policies/items/yx-finance-2019-01/")]
    pages += [client.get(f"/policies/items/{code}/") for code in BenefitItem.objects.values_list("code", flat=True)]
    assert {page.status_code for page in pages} == {200}
    return "".join(page.content.decode() for page in pages)


def _api(client) -> str:
    listed = client.get("/api/v1/policies/items?limit=100").json()
    one = client.get("/api/v1/policies/items/yx-finance-2019-01").json()
    return json.dumps([listed, one], ensure_ascii=False)


def test_the_public_and_enterprises_see_no_research_notes_or_confidence_marks(client, library):
    research = _research_texts()
    assert len(research) > 60
    for viewer in (None, library["enterprise_demo"]):
        if viewer is not None:
            client.force_login(viewer)
        pages = _pages(client) + client.get("/policies/mine/").content.decode()
        api = _api(client)
        for text in (*FINANCE_NOTES, *research):
            assert text not in pages, (viewer, text)
            assert text not in api, (viewer, text)
        assert "可信度" not in pages and "研究说明" not in pages
        assert '"confidence"' not in api and "policy_notes" not in api
        assert json.loads(api)[1]["research"] is None
        # the public still reads that the award is not entered, and the issuer as issued
        assert "奖励标准未录入：本事项只列出条件，不测算金额。" in pages
        assert "广州市越秀区人民政府办公室</dd>" in pages


def test_staff_pages_and_the_staff_api_still_show_notes_and_confidence(client, library):
    client.force_login(library["policy_kgsxj"])
    page = client.get("/policies/items/yx-finance-2019-01/").content.decode()
    for text in FINANCE_NOTES:
        assert text in page
    assert "<dt>可信度</dt><dd>H</dd>" in page
    assert "可信度 H" in client.get("/policies/").content.decode()
    body = client.get("/api/v1/policies/items/yx-finance-2019-01").json()
    assert body["research"]["confidence"] == "H"
    assert body["research"]["notes"].startswith("本办法各奖励事项都要同时满足的通用门槛")
    assert body["research"]["incomplete_reason"].endswith("须到 gz.gov.cn 或 yuexiu.gov.cn 读原文后补录")


def test_staff_see_the_general_rule_a_condition_comes_from_and_the_public_the_condition_only(client, library):
    # gz-hitech-2021-01's credit condition is not in its clause: it cites 国发〔2016〕33号 (confidence L).
    cited = "〔依据：国发〔2016〕33号《国务院关于建立完善守信联合激励和失信联合惩戒制度加快推进社会诚信建设的指导意见》"
    public = client.get("/policies/items/gz-hitech-2021-01/").content.decode()
    assert "未被列为严重失信主体（信用状况不等于严重失信）" in public and "依据：" not in public
    client.force_login(library["policy_kgsxj"])
    staff = client.get("/policies/items/gz-hitech-2021-01/").content.decode()
    assert cited + "二、（十一）对严重失信主体“严格限制申请财政性资金项目”（可信度 L）〕" in staff
    # The item's own conditions name no source.
    assert "首次通过国家高新技术企业认定（由主管部门审核认定）</li>" in staff


DATA_RULES = """\
policy:
  code: data-test-2025
  number: 测试〔2025〕3号
  title: 所用数据测试政策
  issuer: 广州市越秀区人民政府
  effective: 2025-01-01
  expires: 2025-12-31
  confidence: U
  illustration: false
items:
  - code: data-test-01
    name: 测试：高新企业营收奖励
    mode: 免申即享
    department: 区科工商信局
    budget: 100万元
    versions:
      - eligibility:
          all:
            - {label: 注册地在越秀区, attr: district, op: "=", value: 越秀区}
            - {label: 上年度营业收入1000万元以上, attr: revenue, op: ">=", value: 1000万元}
            - {label: 属于高新技术企业, attr: tags, op: has, value: 高新技术企业}
            - {label: 实缴资本100万元以上, attr: paid_in_capital, op: ">=", value: 100万元}
        amount: {formula: 5万元}
  - code: data-test-02
    name: 测试：持牌金融机构奖励
    mode: 免申即享
    department: 区科工商信局
    budget: 100万元
    versions:
      - eligibility:
          all:
            - {label: 属于持牌金融机构, attr: tags, op: has, value: 持牌金融机构}
        amount: {formula: 5万元}
"""

WHOLE_RECORD = "高新技术企业、专精特新中小企业"  # how the enterprise's every tag used to be shown


def test_the_data_used_column_shows_the_value_each_condition_read(client, frozen, cast, tmp_path):
    (tmp_path / "data-test.yaml").write_text(DATA_RULES, encoding="utf-8")
    services.load_policy_library(tmp_path)
    Enterprise.objects.create(
        uscc="91440104MA5CYX1KXU",
        name="示范科技有限公司",
        district="越秀区",
        revenue=Decimal("12000000"),
        paid_in_capital=Decimal("8000000"),
        capital_currency="HKD",
        tags=["高新技术企业", "专精特新中小企业", "规模以上企业"],
    )
    run = MatchRun.objects.create(period=2025, as_of=date(2025, 6, 18), started_by=cast["policy_kgsxj"])
    assert services.execute_run(run.pk).candidates == 1
    candidate = Candidate.objects.get()
    expected = [
        "<td>注册地：越秀区</td>",
        "<td>上年度营业收入：1,200万元</td>",
        "<td>企业标签：具有“高新技术企业”</td>",
        "<td>实缴资本：800万港元</td>",
    ]
    client.force_login(cast["policy_kgsxj"])
    review = client.get(f"/workbench/policies/candidates/{candidate.pk}/").content.decode()
    client.force_login(cast["enterprise_demo"])
    mine = client.get(f"/policies/mine/{candidate.pk}/").content.decode()
    precheck = client.get("/policies/items/data-test-01/").content.decode()
    for page in (review, mine, precheck):
        explanation = page.split('id="explanation"' if 'id="explanation"' in page else 'id="precheck"')[1]
        explanation = explanation.split("</table>")[0]
        for cell in expected:
            assert cell in explanation
        assert WHOLE_RECORD not in explanation and "规模以上企业" not in explanation
    not_eligible = client.get("/policies/mine/").content.decode().split('id="my-not-eligible"')[1]
    assert "属于持牌金融机构（企业标签：不具有“持牌金融机构”）" in not_eligible
    assert WHOLE_RECORD not in not_eligible


SOURCED_RULES = (
    (Path(__file__).parent / "rules" / "loop-policy.yaml")
    .read_text(encoding="utf-8")
    .replace("  illustration: true\n", "  illustration: false\n", 1)
    .replace(
        "            - {label: 门店为新开设的品牌首店, manual: true}\n",
        "            - {label: 门店为新开设的品牌首店, manual: true}\n"
        "            - label: 未被列为严重失信主体\n"
        "              attr: credit_status\n"
        '              op: "!="\n'
        "              value: 严重失信\n"
        "              source: {document: 国发〔2016〕33号, clause: 二、（十一）, confidence: L}\n",
    )
)


def test_the_reviewers_explanation_names_the_general_rule_and_the_enterprises_does_not(client, cast):
    with time_machine.travel(datetime(2026, 3, 10, 10, tzinfo=SHANGHAI), tick=False):
        services._store_rule_file(load_rule_file(SOURCED_RULES), SOURCED_RULES, None)
        services._set_budget(BenefitItem.objects.get(code="loop-test-2025-02"), 100_000_000)
        Enterprise.objects.create(
            uscc="91440104MA5CYX1KXU", name="示范科技有限公司", district="越秀区", credit_status="良好"
        )
        candidate = services.apply(
            item_id=BenefitItem.objects.get(code="loop-test-2025-02").pk,
            user=cast["enterprise_demo"],
            declarations=["门店为新开设的品牌首店"],
        )
        client.force_login(cast["enterprise_demo"])
        own = client.get(f"/policies/mine/{candidate.pk}/").content.decode()
        client.force_login(cast["policy_kgsxj"])
        review = client.get(f"/workbench/policies/candidates/{candidate.pk}/").content.decode()
    assert "未被列为严重失信主体" in own and "依据：" not in own
    assert (
        '未被列为严重失信主体<br><small class="research">依据：国发〔2016〕33号二、（十一）（可信度 L）</small>'
        in review
    )
