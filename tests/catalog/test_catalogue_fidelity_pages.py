"""What the fidelity fixes of issue 12 look like to citizens and staff: an unsettled guide stays a draft
for its editors, the facts the sources state are on the guide, a bundle's promise says what it does
not count and which rule it follows on which date, and the required guide elements follow their
dated row."""

from __future__ import annotations

from datetime import date

import pytest

from yuexiu.catalog import checks, selectors, services
from yuexiu.catalog.models import GuideStatus, GuideVersion, ServiceItem
from yuexiu.core import rules
from yuexiu.core.errors import Conflict
from yuexiu.core.models import Role, RoleAssignment

NEWBORN = "xin-sheng-er-chu-sheng-yi-jian-shi"
CREDIT = "xin-yong-xiu-fu-yi-jian-shi"
MILITARY = "jun-ren-tui-yi-yi-jian-shi"


def test_the_outdoor_advertising_guide_is_a_draft_for_its_editors_until_its_caveat_is_checked(client, catalogue):
    item = ServiceItem.objects.get(seed_key="outdoor-advertising")
    draft = item.versions.get()
    assert (item.current_version, draft.status) == (None, GuideStatus.DRAFT)
    assert client.get(f"/services/items/{item.slug}/").status_code == 404
    assert item not in selectors.search_catalogue("户外广告").items
    [caveat] = draft.content["caveats"]
    assert "可能是 2014 年以前的版本" in caveat and "区级部门现在是否核发户外广告设置证未经确认" in caveat
    assert [finding.rule for finding in services.check_version(draft) if finding.rule == "unverified_caveat"] == [
        "unverified_caveat"
    ]

    editor = catalogue["editor_scj"]  # the cast has no 区城管执法局 editor: 孙编辑 is given the role there
    RoleAssignment.objects.create(user=editor, organisation=item.organisation, role=Role.GUIDE_EDITOR)
    client.force_login(editor)
    page = client.get(f"/workbench/guides/{draft.pk}/").content.decode()
    assert "有待核实事项" in page and "区级部门现在是否核发户外广告设置证未经确认" in page
    services.save_draft(version=draft, editor=editor, content=draft.content, change_summary="初始导入待核实")
    with pytest.raises(Conflict, match="核实后请删去该条待核实事项"):
        services.submit_draft(version=draft, editor=editor)
    assert GuideVersion.objects.get(pk=draft.pk).status == GuideStatus.DRAFT

    settled = {**draft.content, "caveats": []}
    services.save_draft(
        version=draft, editor=editor, content=settled, change_summary="经核对现行办法第十三条，区城管执法局核发"
    )
    assert services.submit_draft(version=draft, editor=editor).status == GuideStatus.SUBMITTED
    services.publish_version(version=draft, reviewer=catalogue["reviewer_zsj"])
    page = client.get(f"/services/items/{item.slug}/").content.decode()
    assert "待核实" not in page


def test_the_guides_carry_the_facts_their_sources_state(client, catalogue):
    food = client.get("/services/items/shi-pin-jing-ying-xu-ke-xin-ban/").content.decode()
    assert "现场核查（从事餐饮服务的须经现场核查" in food
    permit = ServiceItem.objects.get(seed_key="construction-permit")
    page = client.get(f"/services/items/{permit.slug}/").content.decode()
    assert "三个月内开工" in page and "延期以两次为限，每次不超过三个月" in page
    training = ServiceItem.objects.get(seed_key="off-campus-training-licence").current_version.content
    assert any("先证后照" in condition for condition in training["acceptance_conditions"])
    certificate = ServiceItem.objects.get(seed_key="birth-medical-certificate")
    page = client.get(f"/services/items/{certificate.slug}/").content.decode()
    assert '<dd id="onsite-visits">0 次（邮寄送达的，无需到现场；到签发机构现场领取的，到现场 1 次。）</dd>' in page
    assert "邮寄送达（邮费由申请人承担）；到签发机构现场领取" in page
    # confidence marks and research notes are for staff
    assert "可信度" not in page and "guides-guangdong.yaml" not in page


def test_the_newborn_bundle_says_what_its_five_days_do_not_count(client, catalogue):
    page = client.get(f"/services/bundles/{NEWBORN}/").content.decode()
    assert '<dd id="bundle-limit">最快 5 个工作日（制卡、邮寄时间不计入）</dd>' in page
    assert "<li>社会保障卡申领：制卡</li>" in page and "<li>各事项办理结果的邮寄</li>" in page
    home = client.get("/services/").content.decode()
    assert "最快 5 个工作日（制卡、邮寄时间不计入）" in home
    assert client.get(f"/api/v1/catalog/bundles/{NEWBORN}").json()["promised_limit_text"] == (
        "最快 5 个工作日（制卡、邮寄时间不计入）"
    )


def test_the_credit_repair_bundle_follows_the_rule_in_force_on_the_day(client, catalogue):
    page = client.get(f"/services/bundles/{CREDIT}/").content.decode()  # 2026-12-02: 36号令
    assert "办理时限待核实（《信用修复管理办法》（国家发展和改革委员会令第36号）规定的时限尚未核实）" in page
    assert "2023-05-01 起至 2026-03-31" in page and "2026-04-01 起（现行）" in page
    assert "“信用中国”网站审核修复申请，材料齐全的撤下公示信息：10 个工作日" in page
    assert "时限待核实" in page
    body = client.get(f"/api/v1/catalog/bundles/{CREDIT}").json()
    assert body["promised_limit_days"] is None
    listing = {bundle["slug"]: bundle for bundle in client.get("/api/v1/catalog/bundles").json()}
    assert listing[CREDIT]["promised_limit_days"] is None and listing[NEWBORN]["promised_limit_days"] == 5


def test_the_military_discharge_bundle_lists_its_core_matters_before_the_2025_additions(client, catalogue):
    page = client.get(f"/services/bundles/{MILITARY}/").content.decode()
    order = ["退役军人报到", "退役军人户口登记", "军人退役基本养老保险关系转移接续", "军人退役基本医疗保险关系转移接续",
             "自主就业职业技能培训和就业创业指导", "社会保障卡申领", "基本医疗保险变更登记"]  # fmt: skip
    positions = [page.index(name) for name in order]
    assert positions == sorted(positions)
    assert "所含事项和流程参照其他地区的做法整理" in page
    assert ServiceItem.objects.get(seed_key="veteran-reporting").confidence == "M"  # 退役军人保障法, not Chongqing
    assert ServiceItem.objects.get(seed_key="veteran-employment-guidance").confidence == "L"  # Chongqing: capped


def test_the_required_elements_follow_their_dated_row(reference_data):
    old = rules.get_rule_value("catalog.guide_required_elements", date(2026, 11, 30))
    new = rules.get_rule_value("catalog.guide_required_elements", date(2026, 12, 1))
    assert set(new) - set(old) == {"steps", "quantity_limit", "online_depth", "delivery"}
    assert set(old) <= set(new)


def _guide(key: str, organisation: str, content: dict) -> checks.CheckedGuide:
    return checks.CheckedGuide(key, "事项", "XK00009000", f"{organisation}-XK", "licensing", "county", organisation,
                               organisation, content)  # fmt: skip


def test_the_new_elements_are_required_and_compared_across_organisations():
    steps = [{"name": "受理"}, {"name": "审查"}]
    same = {"steps": steps, "quantity_limit": "无数量限制", "online_depth": "full_online", "delivery": ["邮寄送达"]}
    odd = {**same, "delivery": ["窗口领取"], "online_depth": "online_application"}
    findings = checks.check_guides(
        [_guide("1", "a", same), _guide("2", "b", same), _guide("3", "c", odd), _guide("4", "d", {})],
        required_elements=["steps", "quantity_limit", "online_depth", "delivery"],
        evidence=[],
    )
    missing = sorted(finding.element for finding in findings if finding.rule == "required_element_missing")
    assert missing == ["delivery", "online_depth", "quantity_limit", "steps"]
    different = {
        (finding.key, finding.element) for finding in findings if finding.rule == "inconsistent_across_organisations"
    }
    assert ("3", "delivery") in different and ("3", "online_depth") in different
    assert not any(key == "1" for key, _ in different)


def test_an_editor_fills_in_the_new_elements_on_the_guide_form(client, catalogue, food):
    client.force_login(catalogue["editor_scj"])
    client.post(f"/workbench/guides/items/{food.slug}/draft/")
    draft = GuideVersion.objects.get(item=food, status=GuideStatus.DRAFT)
    page = client.get(f"/workbench/guides/{draft.pk}/").content.decode()
    for label in (
        "数量限制",
        "到现场次数说明",
        "有效期与延期",
        "待核实事项（仅工作人员可见）",
        "结果送达方式",
        "网办深度",
    ):
        assert label in page, label


def test_a_catalogue_seeded_before_issue_12_is_corrected_by_the_data_migrations(catalogue):
    """The rows an earlier seed wrote: three 全程网办 records, the newborn's plain 5 days, credit repair's
    undated 10 days. The migrations change exactly those rows and keep what an officer entered."""
    from importlib import import_module

    from django.apps import apps

    from yuexiu.catalog.models import CitywideHandling, ServiceBundle

    food = ServiceItem.objects.get(seed_key="food-business-licence-new")
    registration = ServiceItem.objects.get(seed_key="individual-business-registration")
    CitywideHandling.objects.create(
        item=food, mode="fully_online", source_url="http://baidu.baiduer.com.cn/guonei/2022/0223/11712.html"
    )
    CitywideHandling.objects.create(item=registration, mode="proxy_intake", areas=["广州市"])  # an officer's
    ServiceBundle.objects.filter(seed_key="newborn-birth").update(promised_limit_is_fastest=False, limit_exclusions=[])
    ServiceBundle.objects.filter(seed_key="credit-repair").update(promised_limit_days=10, flow_rule="")
    import_module("yuexiu.catalog.migrations.0003_remove_seeded_citywide_records").remove_seeded_records(apps, None)
    import_module("yuexiu.catalog.migrations.0004_seeded_bundle_promise_terms").add_terms(apps, None)
    assert list(CitywideHandling.objects.values_list("item__seed_key", "mode")) == [
        ("individual-business-registration", "proxy_intake")
    ]
    newborn = ServiceBundle.objects.get(seed_key="newborn-birth")
    assert newborn.promised_limit_is_fastest and [entry["label"] for entry in newborn.limit_exclusions] == [
        "制卡",
        "邮寄",
    ]
    credit = ServiceBundle.objects.get(seed_key="credit-repair")
    assert (credit.promised_limit_days, credit.flow_rule) == (None, "catalog.credit_repair_bundle_flow")
