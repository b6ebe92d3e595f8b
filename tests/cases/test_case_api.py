"""The cases API: own cases for applicants, organisation cases for staff, nothing by guessing."""

from __future__ import annotations

import pytest

from tests.helpers import food_licence_uploads
from yuexiu.cases import services
from yuexiu.catalog.models import ServiceItem


@pytest.fixture
def case(catalogue):
    food = ServiceItem.objects.get(seed_key="food-business-licence-new")
    case = services.submit_application(
        item=food,
        applicant=catalogue["enterprise_demo"],
        idempotency_key="api-1",
        form_data={},
        uploads=food_licence_uploads(),
    )
    return services.accept_case(case=case, actor=catalogue["window_centre"])


def test_an_applicant_lists_and_reads_their_own_case_with_its_clock(client, catalogue, case):
    client.force_login(catalogue["enterprise_demo"])
    listing = client.get("/api/v1/cases").json()
    assert [entry["number"] for entry in listing["items"]] == [case.number]
    body = client.get(f"/api/v1/cases/{case.number}").json()
    assert body["status"] == "accepted"
    assert body["applicant_name"] == "广州越秀示范科技有限公司（演示）"
    assert body["applicant_id_number_masked"] == ""  # an enterprise account has no 身份证号
    assert body["statutory_clock"]["left_working_days"] == 20
    assert body["promised_clock"] is None


def test_an_applicant_cannot_read_another_applicants_case_by_guessing_its_number(client, catalogue, case):
    client.force_login(catalogue["citizen_demo"])
    response = client.get(f"/api/v1/cases/{case.number}")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "未找到该办件。", "details": {}}
    assert client.get("/api/v1/cases").json() == {"count": 0, "items": []}


def test_staff_see_only_their_organisations_cases(client, catalogue, case):
    client.force_login(catalogue["approver_scj"])
    assert client.get("/api/v1/cases").json()["count"] == 1
    client.force_login(catalogue["window_hongqiao"])
    assert client.get("/api/v1/cases").json()["count"] == 0
    assert client.get(f"/api/v1/cases/{case.number}").status_code == 404


def test_the_cases_api_needs_a_login(client, case):
    assert client.get("/api/v1/cases").status_code == 401
