"""The seeded catalogue and the public portal: the 13 bundles of 2024, 新生儿出生一件事 in full, the
twelve Guangdong guides, and what a citizen sees and can do on the pages."""

from __future__ import annotations

from yuexiu.catalog import seed, selectors
from yuexiu.catalog.models import CitywideHandling, GuideVersion, ServiceBundle, ServiceItem

NEWBORN = "xin-sheng-er-chu-sheng-yi-jian-shi"


def test_seeding_creates_the_13_bundles_and_is_idempotent(catalogue):
    assert ServiceBundle.objects.count() == 13
    assert ServiceItem.objects.filter(seed_key__in=seed._read(seed.MAPPING_FILE)["guides"]).count() == 12
    assert seed.load_seed_catalogue() == {"items": 0, "bundles": 0, "citywide": 0, "evidence": 0}
    assert ServiceBundle.objects.filter(event_kind="life").count() == 6
    assert ServiceBundle.objects.filter(event_kind="business").count() == 7


def test_newborn_bundle_is_seeded_in_full_as_guangdong_runs_it(catalogue):
    bundle = selectors.get_bundle(NEWBORN)
    names = [link.item.name for link in bundle.bundleitem_set.all()]
    assert len(names) == 9
    assert names[0] == "生育登记凭证签发"
    assert "国（境）内出生登记" in names
    assert bundle.promised_limit_days == 5
    assert bundle.lead_organisation.code == "440104-WJJ"
    assert len(bundle.eligibility) == 3
    assert bundle.confidence == "H"
    assert bundle.source_url == "http://psc.zs.gov.cn/gzdt/zxdt/content/post_2548029.html"


def test_the_merged_form_asks_each_field_once_and_the_merged_list_removes_duplicates(catalogue):
    merged = selectors.merge_bundle(selectors.get_bundle(NEWBORN))
    assert (merged.fields_before_merge, len(merged.fields)) == (39, 12)
    assert [field.key for field in merged.fields].count("mother_name") == 1
    mother = next(field for field in merged.fields if field.key == "mother_name")
    assert mother.asked_by == [
        "生育登记凭证签发",
        "出生医学证明（首次签发）",
        "国（境）内出生登记",
        "生育医疗费用报销（查询）",
        "科学育儿指导服务登记",
    ]
    assert (merged.materials_before_merge, len(merged.materials)) == (16, 9)
    ids = next(material for material in merged.materials if material.key == "parents_id_card")
    assert ids.needed_by == ["生育登记凭证签发", "出生医学证明（首次签发）", "国（境）内出生登记"]
    assert ids.substitute == "e_licence"
    certificate = next(material for material in merged.materials if material.key == "birth_medical_certificate")
    assert certificate.substitute == "produced_in_bundle"
    assert merged.materials_to_submit == []


def test_shared_data_substitution_applies_in_the_catering_bundle(catalogue):
    merged = selectors.merge_bundle(selectors.get_bundle("kai-ban-can-yin-dian-yi-jian-shi"))
    licence = next(material for material in merged.materials if material.key == "evidence:营业执照")
    assert licence.substitute == "shared_data"
    assert [material.name for material in merged.materials_to_submit] == [
        "食品经营许可申请书",
        "与食品经营相适应的主要设备设施布局、操作流程等文件",
        "食品安全自查、从业人员健康管理、进货查验记录、食品安全事故处置等保证食品安全的规章制度",
    ]


def test_seeded_guides_keep_sources_confidence_and_conflicts(catalogue):
    item = ServiceItem.objects.get(seed_key="public-place-hygiene-licence")
    content = item.current_version.content
    assert item.confidence == "M"
    assert item.organisation.code == "440104-WJJ"
    assert content["statutory_limit"] == {"value": 20, "unit": "working_days", "note": ""}
    assert content["promised_limit"]["value"] == 0
    assert [conflict["field"] for conflict in content["conflicts"]] == ["promised limit"]
    assert len(content["conflicts"][0]["values"]) == 3
    permit = ServiceItem.objects.get(seed_key="residence-permit").current_version.content
    assert permit["statutory_limit"]["unit"] == "natural_days"
    assert permit["fee_charged"] is False


def test_no_citywide_handling_is_seeded_because_the_source_marks_every_item_unknown(client, catalogue):
    assert CitywideHandling.objects.count() == 0
    home = client.get("/services/").content.decode()
    assert "全市通办事项清单整理中" in home and "支持全市通办" not in home


def test_citywide_handling_an_officer_entered_is_shown_and_counted(client, catalogue):
    food = ServiceItem.objects.get(seed_key="food-business-licence-new")
    CitywideHandling.objects.create(item=food, mode="proxy_intake", areas=["广州市"], confidence="M")
    html = client.get("/services/").content.decode()
    assert "1 个事项支持全市通办" in html
    listing = client.get("/services/items/", {"citywide": "1"}).content.decode()
    assert "食品经营许可（新办）" in listing and "异地代收代办" in listing
    assert "共 1 个事项" in listing


def test_browse_by_subdistrict_lists_items_accepted_there(client, catalogue):
    html = client.get("/services/items/", {"subdistrict": "440104001000"}).content.decode()
    assert "洪桥街道事项" in html
    assert "最低生活保障审批（审核确认）" in html
    assert "共 2 个事项" in html


def test_slugs_of_all_chinese_names_are_never_empty_or_colliding(catalogue):
    slugs = list(ServiceItem.objects.values_list("slug", flat=True))
    assert all(slugs) and len(set(slugs)) == len(slugs)
    assert ServiceItem.objects.get(seed_key="residence-permit").slug == "ju-zhu-zheng-shen-ling"


def test_a_citizen_searches_chu_sheng_and_finds_the_bundle_and_the_certificate(client, catalogue):
    html = client.get("/services/search/", {"q": "出生"}).content.decode()
    assert "新生儿出生一件事" in html
    assert html.index("出生医学证明（首次签发）") < html.index("国（境）内出生登记")
    for query in ("chusheng", "csyxzm", "出生医学证名"):
        results = selectors.search_catalogue(query)
        assert results.items[0].name == "出生医学证明（首次签发）", query


def test_the_bundle_page_prechecks_the_merged_form_without_storing_it(client, catalogue):
    page = client.get(f"/services/bundles/{NEWBORN}/").content.decode()
    assert "9 个事项原需填写 39 项，合并为一张表共 12 项" in page
    versions_before = GuideVersion.objects.count()
    response = client.post(
        f"/services/bundles/{NEWBORN}/",
        {"mother_name": "王芳", "mother_id_number": "440104199001010028", "contact_phone": "123"},
    )
    html = response.content.decode()
    assert "还有 10 处需要补充" in html
    assert "母亲公民身份号码：" in html
    assert "请填写父亲姓名。" in html
    assert 'value="王芳"' in html
    assert GuideVersion.objects.count() == versions_before


def test_an_old_guide_version_stays_readable_with_its_diff(client, catalogue):
    item = ServiceItem.objects.get(seed_key="drainage-permit")
    response = client.get(f"/services/items/{item.slug}/versions/1/")
    assert response.status_code == 200
    assert client.get(f"/services/items/{item.slug}/versions/9/").status_code == 404


VALID = {
    "mother_name": "王芳",
    "mother_id_number": "440104199001010029",
    "father_name": "李强",
    "father_id_number": "440104198805050013",
    "child_name": "李小越",
    "child_sex": "女",
    "child_birth_date": "2026-11-20",
    "birth_hospital": "广东省妇幼保健院",
    "household_address": "广州市越秀区洪桥街道",
    "contact_phone": "13800138000",
    "mailing_address": "广州市越秀区洪桥街道某路 1 号",
}


def _precheck(values: dict[str, str]) -> dict:
    from datetime import date

    from yuexiu.catalog import services

    merged = selectors.merge_bundle(selectors.get_bundle(NEWBORN))
    return services.precheck_bundle_form(merged=merged, data=values, today=date(2026, 11, 30))


def test_the_precheck_passes_a_complete_form_and_lists_nothing_to_bring(catalogue):
    result = _precheck(VALID)
    assert result["errors"] == {}
    assert result["passed"] is True
    assert result["materials"] == []


def test_the_precheck_catches_impossible_family_data(catalogue):
    result = _precheck(
        {
            **VALID,
            "mother_id_number": "440104198805050013",
            "child_birth_date": "2025-11-30",
            "child_sex": "X",
            "bank_account": "abc",
        }
    )
    assert result["errors"] == {
        "mother_id_number": "母亲公民身份号码与性别不符（应为女性的身份证号）。",
        "child_sex": "新生儿性别只能选择男、女。",
        "child_birth_date": "出生日期距今不能满 1 年（办理条件）。",
        "bank_account": "报销款收款银行账号应为 10 到 30 位数字。",
    }


def test_two_identity_fields_may_not_hold_the_same_number():
    from datetime import date

    from yuexiu.catalog import services
    from yuexiu.catalog.merge import MergedBundle, MergedField

    fields = [
        MergedField(key="applicant_id", label="申请人身份证号", kind="id_number", required=True, choices=[]),
        MergedField(key="agent_id", label="代办人身份证号", kind="id_number", required=True, choices=[]),
    ]
    merged = MergedBundle(fields=fields, materials=[], fields_before_merge=2, materials_before_merge=0)
    values = {"applicant_id": "440104199001010029", "agent_id": "440104199001010029"}
    result = services.precheck_bundle_form(merged=merged, data=values, today=date(2026, 11, 30))
    assert result["errors"] == {"agent_id": "代办人身份证号与申请人身份证号相同，请核对。"}


def test_search_knows_common_names_codes_and_words_with_gaps(catalogue):
    assert selectors.search_catalogue("低保").items[0].name == "最低生活保障审批（审核确认）"
    assert selectors.search_catalogue("社保卡").items[0].name == "社会保障卡申领"
    assert selectors.search_catalogue("食品许可").items[0].name == "食品经营许可（新办）"
    assert selectors.search_catalogue("出生 证明").items[0].name == "出生医学证明（首次签发）"
    assert selectors.search_catalogue("XK00001000").items[0].name == "食品经营许可（新办）"
    assert selectors.search_catalogue("440104-SWUJ-XK00008000").items[0].slug.startswith("cheng-zhen-wu-shui")


def test_the_public_lists_take_a_bounded_number_of_queries(client, catalogue):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get("/services/search/", {"q": "出生"})  # builds the search index once
    # Cold cache: each page also reads the public revision (core.public_cache); warm, that is all it
    # reads (tests/test_public_cache.py).
    for url, limit in (
        ("/services/", 8),  # + one query for the dated flows of every bundle (信用修复一件事)
        ("/services/items/", 4),
        ("/services/search/?q=出生", 6),
        (f"/services/bundles/{NEWBORN}/", 4),
    ):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        assert len(queries) <= limit, (url, len(queries))
