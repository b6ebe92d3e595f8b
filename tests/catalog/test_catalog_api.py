"""The catalogue's JSON API: list, search and detail of items and bundles, versions and exports."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from yuexiu.catalog.models import CitywideHandling, ServiceItem

NEWBORN = "xin-sheng-er-chu-sheng-yi-jian-shi"


def test_items_are_listed_by_department_with_a_bounded_number_of_queries(client, catalogue):
    food = ServiceItem.objects.get(seed_key="food-business-licence-new")
    CitywideHandling.objects.create(item=food, mode="proxy_intake", areas=["广州市"], confidence="M")
    with CaptureQueriesContext(connection) as queries:
        body = client.get("/api/v1/catalog/items", {"department": "440104-SJJ"}).json()
    assert body["count"] == 3
    assert [item["name"] for item in body["items"]] == [
        "企业营业执照信息核验",
        "食品经营许可（新办）",
        "个体工商户设立登记",
    ]
    assert body["items"][1]["citywide_modes"] == ["proxy_intake"]  # entered by an officer, none is seeded
    assert body["items"][0]["citywide_modes"] == []
    assert len(queries) <= 4


def test_search_by_pinyin_initials_over_the_api(client, catalogue):
    body = client.get("/api/v1/catalog/items", {"q": "jzz"}).json()
    assert body["items"][0]["name"] == "居住证申领"


def test_item_detail_carries_the_current_guide(client, catalogue):
    body = client.get("/api/v1/catalog/items/ju-zhu-zheng-shen-ling").json()
    assert body["organisation_code"] == "440104-GAJ"
    assert body["guide"]["number"] == 1
    assert body["guide"]["content"]["statutory_limit"] == {"value": 15, "unit": "natural_days", "note": ""}
    assert client.get("/api/v1/catalog/items/ju-zhu-zheng-shen-ling/versions/1").json()["status"] == "published"
    missing = client.get("/api/v1/catalog/items/no-such-item")
    assert missing.status_code == 404
    assert missing.json()["message"] == "未找到该事项，可能已下线或网址有误。"


def test_bundle_detail_has_the_merged_form_and_materials(client, catalogue):
    body = client.get(f"/api/v1/catalog/bundles/{NEWBORN}").json()
    assert body["promised_limit_days"] == 5
    assert len(body["items"]) == 9
    assert len(body["merged_form"]) == 12
    assert [material["key"] for material in body["merged_materials"] if material["must_submit"]] == []
    bundles = client.get("/api/v1/catalog/bundles", {"event_kind": "life"}).json()
    assert len(bundles) == 6


def test_the_spreadsheet_exports_download(client, catalogue):
    response = client.get("/api/v1/catalog/export", {"format": "csv"})
    assert response.content.startswith("\ufeff实施编码,基本编码,事项名称".encode())
    assert client.get("/services/export.xlsx").content[:2] == b"PK"


def test_an_unknown_api_path_answers_json_and_a_bad_choice_is_explained_in_chinese(client, catalogue):
    missing = client.get("/api/v1/catalog/nope")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    bad = client.get("/api/v1/catalog/export", {"format": "foo"}).json()
    assert bad["details"]["errors"] == [{"field": "format", "reason": "只能取 xlsx、csv、jsonld"}]
