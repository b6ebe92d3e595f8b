"""Yuexiu's organisation tree: loaded from the repo's data file, browsed through pages and the API."""

from __future__ import annotations

import pytest

from yuexiu.core import services
from yuexiu.core.models import AuditEvent, Organisation

pytestmark = pytest.mark.django_db


def test_the_district_has_its_18_subdistricts_with_official_codes(reference_data):
    subdistricts = Organisation.objects.filter(kind="subdistrict")
    assert subdistricts.count() == 18
    assert Organisation.objects.get(code="440104001000").name == "洪桥街道"
    assert Organisation.objects.get(code="440104022000").name == "矿泉街道"
    assert not Organisation.objects.filter(code="440104002000").exists()  # a retired code
    assert {s.parent.code for s in subdistricts} == {"440104000000"}


def test_departments_hang_under_the_district(reference_data):
    bureau = Organisation.objects.get(code="440104-ZSJ")
    assert bureau.name == "广州市越秀区政务服务和数据管理局"
    assert bureau.parent.code == "440104000000"
    assert Organisation.objects.filter(kind="department").count() == 23


def test_loading_twice_changes_nothing(reference_data):
    events_before = AuditEvent.objects.count()
    assert services.load_organisations() == {"created": 0, "updated": 0}
    assert AuditEvent.objects.count() == events_before


def test_a_changed_name_in_the_data_file_is_updated_and_audited(reference_data, tmp_path):
    source = services.ORGANISATION_DATA.read_text(encoding="utf-8").replace(
        "洪桥街道,洪桥街道", "洪桥街道（新）,洪桥街道"
    )
    path = tmp_path / "organisations.csv"
    path.write_text(source, encoding="utf-8")
    assert services.load_organisations(path) == {"created": 0, "updated": 1}
    event = AuditEvent.objects.get(action="organisation.updated")
    assert event.changes == {"name": ["洪桥街道", "洪桥街道（新）"]}


def test_the_portal_home_lists_all_18_subdistricts(client, reference_data):
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "街道（18 个）" in html
    assert html.count('class="card"><a href="/organisations/4401040') == 18


def test_the_organisation_browser_filters_by_level_and_name(client, reference_data):
    response = client.get("/organisations/", {"kind": "subdistrict", "q": "洪桥"})
    assert "共 1 个机构" in response.content.decode()
    partial = client.get("/organisations/", {"kind": "department"}, headers={"HX-Request": "true"})
    assert "共 23 个机构" in partial.content.decode()
    assert "<html" not in partial.content.decode()


def test_an_unknown_organisation_page_is_a_chinese_404(client, reference_data):
    response = client.get("/organisations/440104999000/")
    assert response.status_code == 404
    assert "未找到编码为 440104999000 的组织机构" in response.content.decode()


def test_the_api_lists_subdistricts_in_official_order(client, reference_data, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        response = client.get("/api/v1/organisations", {"kind": "subdistrict", "limit": 5})
    body = response.json()
    assert response.status_code == 200
    assert body["count"] == 18
    assert [item["code"] for item in body["items"]] == [
        "440104001000",
        "440104003000",
        "440104004000",
        "440104005000",
        "440104007000",
    ]
    assert body["items"][0] == {
        "code": "440104001000",
        "name": "洪桥街道",
        "short_name": "洪桥街道",
        "kind": "subdistrict",
        "kind_label": "街道",
        "parent_code": "440104000000",
    }


def test_the_api_gives_an_organisation_with_its_children(client, reference_data):
    body = client.get("/api/v1/organisations/440104000000").json()
    assert body["name"] == "广州市越秀区"
    assert len(body["children"]) == 18 + 23


@pytest.mark.parametrize("limit", ["-1", "0", "101", "99999999999999999999", "abc"])
def test_wrong_pagination_is_a_422_with_the_error_shape(client, reference_data, limit):
    response = client.get("/api/v1/organisations", {"limit": limit})
    assert response.status_code == 422
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == "validation_error"
    assert "limit" in body["message"]


def test_an_unknown_organisation_is_a_404_with_the_error_shape(client, reference_data):
    response = client.get("/api/v1/organisations/nope")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "未找到编码为 nope 的组织机构。", "details": {}}
