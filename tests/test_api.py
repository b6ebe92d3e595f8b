"""The API's shell: OpenAPI, docs page, authentication and the one error shape."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_openapi_document_lists_every_operation(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["info"]["title"] == "数字越秀 API"
    assert set(spec["paths"]) == {
        "/api/v1/organisations",
        "/api/v1/organisations/{code}",
        "/api/v1/workdays/add",
        "/api/v1/workdays/count",
        "/api/v1/workdays/check",
        "/api/v1/me",
        "/api/v1/audit-events",
        "/api/v1/catalog/items",
        "/api/v1/catalog/items/{slug}",
        "/api/v1/catalog/items/{slug}/versions/{number}",
        "/api/v1/catalog/bundles",
        "/api/v1/catalog/bundles/{slug}",
        "/api/v1/catalog/export",
        "/api/v1/cases",
        "/api/v1/cases/{number}",
        "/api/v1/policies/items",
        "/api/v1/policies/items/{code}",
        "/api/v1/policies/items/{code}/precheck",
        "/api/v1/policies/figures",
        "/api/v1/policies/mine",
        "/api/v1/policies/runs",
        "/api/v1/policies/runs/{run_id}",
    }


def test_the_docs_page_serves_swagger_from_local_static_files(client):
    html = client.get("/api/v1/docs").content.decode()
    assert "/api/v1/openapi.json" in html
    assert "cdn." not in html


def test_me_needs_a_login_and_answers_with_the_error_shape(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json() == {"code": "not_authenticated", "message": "请先登录。", "details": {}}


def test_me_shows_masked_personal_data_and_roles(client, cast):
    client.force_login(cast["citizen_demo"])
    body = client.get("/api/v1/me").json()
    assert body["masked_id_number"] == "440104********0029"
    assert body["masked_phone"] == "138****8000"
    assert "440104199001010029" not in str(body)
    client.force_login(cast["approver_scj"])
    roles = client.get("/api/v1/me").json()["roles"]
    assert roles == [
        {
            "role": "approver",
            "role_label": "审批人员",
            "organisation_code": "440104-SJJ",
            "organisation_name": "广州市越秀区市场监督管理局",
        }
    ]


def test_a_negative_day_count_is_a_422_naming_the_parameter(client, reference_data):
    response = client.get("/api/v1/workdays/add", {"start": "2025-01-20", "days": -1})
    assert response.status_code == 422
    assert response.json()["message"] == "参数有误：days。请检查格式和取值范围。"


def test_validation_reasons_are_chinese_and_name_the_parameter(client, cast):
    body = client.get("/api/v1/organisations", {"limit": 0}).json()
    assert body["details"]["errors"] == [{"field": "limit", "reason": "不能小于 1"}]
    client.force_login(cast["auditadmin"])
    body = client.get("/api/v1/audit-events", {"ip_address": "1.2.3"}).json()
    assert body["message"] == "参数有误：ip_address。请检查格式和取值范围。"
