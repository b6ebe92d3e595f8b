"""Import and export of the catalogue: Excel and CSV in UTF-8, UTF-8 with BOM and GB18030 (detected from
the content), all or nothing, and CPSV-AP JSON-LD."""

from __future__ import annotations

import json

import pytest

from yuexiu.catalog import exports, selectors, services
from yuexiu.catalog.models import ServiceItem
from yuexiu.core import tabular
from yuexiu.core.errors import DomainError, PermissionDeniedError
from yuexiu.core.models import AuditEvent

HEADER = services.IMPORT_COLUMNS
ROW = {
    "实施编码": "440104-FGJ-QT00009000",
    "基本编码": "QT00009000",
    "事项名称": "企业投资项目备案（技术改造）",
    "事项类型": "其他行政权力",
    "实施主体编码": "440104-FGJ",
    "行使层级": "县级",
    "法定办结时限（工作日）": "3",
    "承诺办结时限（工作日）": "1",
    "办件类型": "承诺件",
    "是否收费": "否",
    "设定依据": "企业投资项目核准和备案管理条例 | 第十三条",
    "申请材料": "项目备案信息表 | 在线填报 | 1 | 必需\n营业执照 | 复印件 | 1 | 必需",
}


def _csv(rows: list[dict[str, str]], encoding: str) -> bytes:
    return tabular.write_csv(HEADER, [[row.get(column, "") for column in HEADER] for row in rows], encoding=encoding)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030", "utf-8"])
def test_a_csv_in_each_encoding_imports_an_all_chinese_name(catalogue, encoding):
    result = services.import_catalogue(data=_csv([ROW], encoding), importer=catalogue["reviewer_zsj"])
    assert result == {"created": 1, "updated": 0, "unchanged": 0}
    item = ServiceItem.objects.get(implementation_code="440104-FGJ-QT00009000")
    assert item.name == "企业投资项目备案（技术改造）"
    assert item.slug == "qi-ye-tou-zi-xiang-mu-bei-an-ji-shu-gai-zao"
    assert item.current_version.content["materials"][1]["form"] == "copy"
    assert selectors.search_catalogue("投资项目").items[0] == item


def test_an_xlsx_imports_and_the_export_round_trips_unchanged(catalogue):
    reviewer = catalogue["reviewer_zsj"]
    data = tabular.write_xlsx(HEADER, [[ROW.get(column, "") for column in HEADER]])
    assert services.import_catalogue(data=data, importer=reviewer)["created"] == 1
    exported = exports.export_catalogue("xlsx")
    result = services.import_catalogue(data=exported, importer=reviewer)
    assert result == {"created": 0, "updated": 0, "unchanged": 39}


def test_a_bad_row_imports_nothing_and_names_the_row(catalogue):
    bad = {**ROW, "实施编码": "440104-FGJ-QT00009001", "事项类型": "行政审批", "承诺办结时限（工作日）": "三"}
    before = ServiceItem.objects.count()
    with pytest.raises(DomainError) as error:
        services.import_catalogue(data=_csv([ROW, bad], "gb18030"), importer=catalogue["reviewer_zsj"])
    assert error.value.details["errors"] == [
        {
            "row": 3,
            "message": "事项类型“行政审批”无效，应为行政许可、行政处罚、行政强制、行政征收、行政给付、行政检查、"
            "行政确认、行政奖励、行政裁决、其他行政权力、公共服务之一",
        },
        {"row": 3, "message": "“承诺办结时限（工作日）”应为整数（工作日），实际为“三”"},
    ]
    assert error.value.message.startswith("导入失败，共 1 行有误，未导入任何数据。第 3 行：")
    assert ServiceItem.objects.count() == before


def test_a_change_in_an_imported_row_makes_a_new_version(catalogue):
    reviewer = catalogue["reviewer_zsj"]
    services.import_catalogue(data=_csv([ROW], "utf-8-sig"), importer=reviewer)
    changed = {**ROW, "承诺办结时限（工作日）": "2"}
    assert services.import_catalogue(data=_csv([changed], "utf-8-sig"), importer=reviewer)["updated"] == 1
    item = ServiceItem.objects.get(implementation_code=ROW["实施编码"])
    assert list(item.versions.values_list("number", "status")) == [(2, "published"), (1, "superseded")]


def test_undetectable_bytes_and_non_reviewers_are_refused(catalogue):
    with pytest.raises(DomainError, match="无法识别文件编码"):
        services.import_catalogue(
            data="实施编码\n".encode("gb18030") + b"\xff\xff\x81", importer=catalogue["reviewer_zsj"]
        )
    with pytest.raises(PermissionDeniedError):
        services.import_catalogue(data=_csv([ROW], "utf-8"), importer=catalogue["editor_scj"])


def test_the_import_page_shows_row_errors(client, catalogue):
    client.force_login(catalogue["reviewer_zsj"])
    bad = {**ROW, "实施主体编码": "440104-XXX"}
    upload = ("catalogue.csv", _csv([bad], "gb18030"))
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post("/workbench/catalog/import/", {"file": SimpleUploadedFile(*upload)})
    html = response.content.decode()
    assert "实施主体编码“440104-XXX”不存在" in html


def test_the_cpsv_ap_export_has_services_events_and_organisations(client, catalogue):
    document = json.loads(client.get("/api/v1/catalog/export", {"format": "jsonld"}).content)
    types = [node["@type"] for node in document["@graph"]]
    assert types.count("cpsv:PublicService") == 38
    assert types.count("cv:LifeEvent") == 6 and types.count("cv:BusinessEvent") == 7
    assert "cv:PublicOrganisation" in types
    service = next(node for node in document["@graph"] if node.get("dct:identifier") == "440104-SJJ-XK00001000")
    assert service["cv:hasCompetentAuthority"] == {"@id": "https://yuexiu.example.gov.cn/organisations/440104-SJJ/"}
    assert service["cv:hasInput"][0]["@type"] == "cv:Evidence"
    assert service["cv:hasInput"][0]["@id"].endswith("/services/items/shi-pin-jing-ying-xu-ke-xin-ban/#evidence-1")
    assert "cv:processingTime" not in service  # 20 working days is not an xsd:duration
    assert service["dct:description"] == {"@language": "zh-Hans", "@value": "办结时限 20 个工作日"}
    permit = next(node for node in document["@graph"] if node.get("dct:identifier") == "440104-GAJ-GG00001000")
    assert permit["cv:processingTime"] == {"@type": "xsd:duration", "@value": "P15D"}
    nested = [
        child
        for node in document["@graph"]
        for key in ("cv:hasInput", "cv:hasLegalResource", "cv:hasCost", "cv:hasChannel")
        for child in node.get(key, [])
    ]
    assert nested and all("@id" in child for child in nested)
    assert service["cv:hasCost"][0]["cv:value"] == 0
    assert service["cv:isGroupedBy"] == [
        {"@id": "https://yuexiu.example.gov.cn/services/bundles/kai-ban-can-yin-dian-yi-jian-shi/"}
    ]


def test_importing_one_changed_cell_changes_only_that_element(catalogue):
    reviewer = catalogue["reviewer_zsj"]
    permit = ServiceItem.objects.get(seed_key="residence-permit")
    before = permit.current_version.content
    rows = [services.catalogue_row(item) for item in ServiceItem.objects.order_by("id")]
    for row in rows:
        if row["实施编码"] == permit.implementation_code:
            row["承诺办结时限（工作日）"] = "15"
    data = tabular.write_csv(HEADER, [[row[column] for column in HEADER] for row in rows], encoding="gb18030")
    assert services.import_catalogue(data=data, importer=reviewer) == {"created": 0, "updated": 1, "unchanged": 38}
    permit.refresh_from_db()
    after = permit.current_version.content
    assert after["promised_limit"] == {"value": 15, "unit": "working_days", "note": ""}
    assert {key: value for key, value in after.items() if key != "promised_limit"} == {
        key: value for key, value in before.items() if key != "promised_limit"
    }
    event = AuditEvent.objects.get(action="catalog.imported")
    assert event.changes["items"] == [
        {"implementation_code": permit.implementation_code, "version": 2, "columns": ["承诺办结时限（工作日）"]}
    ]


def test_a_formula_as_an_item_name_is_refused(catalogue):
    row = {**ROW, "事项名称": '=HYPERLINK("http://evil")'}
    with pytest.raises(DomainError) as error:
        services.import_catalogue(data=_csv([row], "utf-8"), importer=catalogue["reviewer_zsj"])
    assert error.value.details["errors"] == [{"row": 2, "message": "事项名称不能以 =、+、-、@ 开头（表格公式）"}]


def test_a_failed_import_is_audited(client, catalogue):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(catalogue["reviewer_zsj"])
    bad = {**ROW, "实施主体编码": "440104-XXX"}
    client.post("/workbench/catalog/import/", {"file": SimpleUploadedFile("bad.csv", _csv([bad], "utf-8"))})
    event = AuditEvent.objects.get(action="catalog.import_failed")
    assert event.outcome == "failed"
    assert event.changes["errors"] == [{"row": 2, "message": "实施主体编码“440104-XXX”不存在"}]


def test_an_import_promising_more_than_the_statutory_limit_imports_nothing(catalogue):
    good = {**ROW, "实施编码": "440104-FGJ-QT00009002"}
    late = {**ROW, "承诺办结时限（工作日）": "5"}
    before = ServiceItem.objects.count()
    with pytest.raises(DomainError) as error:
        services.import_catalogue(data=_csv([good, late], "utf-8"), importer=catalogue["reviewer_zsj"])
    assert error.value.details["errors"] == [{"row": 3, "message": "承诺办结时限 5个工作日超过法定办结时限 3个工作日"}]
    assert ServiceItem.objects.count() == before


def test_a_row_exported_from_an_older_version_is_refused(catalogue):
    reviewer = catalogue["reviewer_zsj"]
    old_export = exports.export_catalogue("csv")
    permit = ServiceItem.objects.get(seed_key="residence-permit")
    rows = [services.catalogue_row(item) for item in ServiceItem.objects.order_by("id")]
    for row in rows:
        if row["实施编码"] == permit.implementation_code:
            row["办理时间"] = "工作日 9:00–17:00"
    newer = tabular.write_csv(HEADER, [[row[column] for column in HEADER] for row in rows])
    services.import_catalogue(data=newer, importer=reviewer)
    with pytest.raises(DomainError) as error:
        services.import_catalogue(data=old_export, importer=reviewer)
    assert [entry["message"] for entry in error.value.details["errors"]] == [
        "该行导出自第 1 版，“居住证申领”现行为第 2 版，请重新导出后再修改"
    ]
    permit.refresh_from_db()
    assert permit.current_version.content["hours"] == "工作日 9:00–17:00"
