"""Staff see only the actions their role may take (issue 11 §4: the window saw the citizen's 补正 form
and a 12345 entry form it could not use), and staff land on their workbench after logging in."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.helpers import food_licence_uploads
from yuexiu.cases import services
from yuexiu.cases.models import Case
from yuexiu.catalog.models import ServiceItem

JUNE = datetime(2025, 6, 18, 10, tzinfo=ZoneInfo("Asia/Shanghai"))

# Markers of each form on the case page.
APPLICANT_ANSWER = 'id="answer-form"'
WINDOW_ANSWER = 'id="window-answer-form"'
INTAKE = ("/accept/", "/decline/", "/correct/")
DECISION = ("/approve/", "/refuse/", "/special/")


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(JUNE, tick=True):
        yield


@pytest.fixture
def case(catalogue) -> Case:
    food = ServiceItem.objects.get(seed_key="food-business-licence-new")
    return services.submit_application(
        item=food,
        applicant=catalogue["enterprise_demo"],
        idempotency_key="actions",
        form_data={},
        uploads=food_licence_uploads(),
    )


def page(client, user, case: Case) -> str:
    client.force_login(user)
    response = client.get(f"/cases/{case.number}/")
    assert response.status_code == 200
    return response.content.decode()


def forms_in_main(html: str) -> int:
    """The forms of the page's content (the header's language, elder-mode and logout forms aside)."""
    return html.split('<main id="main"')[1].split("</main>")[0].count("<form")


def test_a_case_waiting_for_correction_shows_the_applicant_form_to_the_applicant_only(client, catalogue, case):
    case = services.accept_case(case=case, actor=catalogue["window_centre"])
    services.request_correction(case=case, actor=catalogue["window_centre"], missing=["营业执照副本"])
    applicant = page(client, catalogue["enterprise_demo"], case)
    assert APPLICANT_ANSWER in applicant and WINDOW_ANSWER not in applicant and "<h2>办理</h2>" not in applicant
    window = page(client, catalogue["window_centre"], case)
    assert APPLICANT_ANSWER not in window and "<h2>提交补正</h2>" not in window
    assert WINDOW_ANSWER in window and "登记申请人补交的材料" in window
    approver = page(client, catalogue["approver_scj"], case)
    assert APPLICANT_ANSWER not in approver and WINDOW_ANSWER not in approver
    assert "<h2>办理</h2>" not in approver and forms_in_main(approver) == 0


def test_the_window_sees_intake_actions_and_the_approver_decisions_and_a_supervisor_none(client, catalogue, case):
    window = page(client, catalogue["window_centre"], case)
    assert all(f"/cases/{case.number}{path}" in window for path in ("/accept/", "/decline/"))
    approver = page(client, catalogue["approver_scj"], case)
    assert not any(f"/cases/{case.number}{path}" in approver for path in INTAKE + DECISION)
    assert "<h2>办理</h2>" not in approver
    services.accept_case(case=case, actor=catalogue["window_centre"])
    approver = page(client, catalogue["approver_scj"], case)
    assert all(f"/cases/{case.number}{path}" in approver for path in DECISION)
    assert not any(f"/cases/{case.number}{path}" in approver for path in INTAKE)
    window = page(client, catalogue["window_centre"], case)
    assert f"/cases/{case.number}/correct/" in window
    assert not any(f"/cases/{case.number}{path}" in window for path in DECISION)
    supervisor = page(client, catalogue["supervisor_demo"], case)
    assert "<h2>办理</h2>" not in supervisor and forms_in_main(supervisor) == 0


def test_the_window_does_not_get_the_12345_entry_form_and_the_hotline_operator_does(client, catalogue):
    client.force_login(catalogue["window_centre"])
    window = client.get("/workbench/ratings/").content.decode()
    assert 'id="hotline-form"' not in window and 'id="visit-form"' in window
    client.force_login(catalogue["hotline_demo"])
    assert 'id="hotline-form"' in client.get("/workbench/ratings/").content.decode()


@pytest.mark.parametrize(
    ("username", "landing"),
    [
        ("window_centre", "/workbench/"),
        ("approver_scj", "/workbench/"),
        ("citizen_demo", "/"),
        ("enterprise_demo", "/"),
    ],
)
def test_staff_land_on_the_workbench_after_logging_in_and_the_public_on_the_portal(
    client, catalogue, password, username, landing
):
    response = client.post("/accounts/login/", {"username": username, "password": password})
    assert response.status_code == 302 and response.url == landing
    assert client.get("/accounts/login/").url == landing  # already signed in


def test_a_login_with_a_next_page_still_goes_there(client, catalogue, password):
    response = client.post(
        "/accounts/login/?next=/workbench/cases/", {"username": "window_centre", "password": password}
    )
    assert response.url == "/workbench/cases/"
