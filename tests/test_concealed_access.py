"""A request for someone else's object is answered 404, like a missing one, and recorded as a
security event: one entry a minute per caller and route, the next entry counting those held back,
so a scan of numbers cannot flood the audit log. One mechanism: the ``access_*`` helpers raise
``audit.concealed(...)``; the request middleware records it once the answer is a 404."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine

from tests.helpers import PDF, at
from yuexiu.cases import services as case_services
from yuexiu.cases.services import Upload
from yuexiu.catalog.models import ServiceItem
from yuexiu.core import services
from yuexiu.core.models import AuditEvent
from yuexiu.policies import services as policy_services
from yuexiu.policies.models import Candidate, Enterprise, MatchRun

pytestmark = pytest.mark.django_db

EVENT = "security.foreign_object_requested"
POLICY_RULES = Path(__file__).parent / "policies" / "rules"


@pytest.fixture
def clock():
    with time_machine.travel(at("2026-03-10T10:00"), tick=False) as traveller:
        yield traveller


@pytest.fixture
def neighbours_case(catalogue, password, clock):
    """张晓越's application for a 居住证, and 王邻居, another citizen who should not see it."""
    services.register_citizen(
        username="neighbour", password=password, full_name="王邻居", id_number="11010519491231002X"
    )
    residence = ServiceItem.objects.get(seed_key="residence-permit")  # 居住证: for natural persons
    return case_services.submit_application(
        item=residence,
        applicant=catalogue["citizen_demo"],
        idempotency_key="neighbour-test",
        form_data={},
        uploads=[Upload(name, "材料.pdf", PDF) for name in case_services.required_uploads(residence)],
    )


def login(client, username: str, password: str) -> None:
    assert client.post("/accounts/login/", {"username": username, "password": password}).status_code == 302


def test_a_citizen_opening_another_citizens_case_gets_404_and_it_is_recorded(client, neighbours_case, password):
    login(client, "neighbour", password)
    response = client.get(f"/cases/{neighbours_case.number}/")
    assert response.status_code == 404
    assert "未找到该办件" in response.content.decode()
    event = AuditEvent.objects.get(action=EVENT)
    assert (event.actor_username, event.outcome, event.object_type, event.object_id) == (
        "neighbour",
        "denied",
        "cases.case",
        str(neighbours_case.pk),
    )
    assert event.changes == {
        "route": "cases/<str:number>/",
        "objects": [f"cases.case:{neighbours_case.pk}"],
        "held_back_since_last_entry": 0,
    }
    assert event.message == f"GET /cases/{neighbours_case.number}/"
    assert event.ip_address == "127.0.0.1"


def test_an_api_get_of_another_persons_case_is_recorded_too(client, neighbours_case, password):
    login(client, "neighbour", password)
    response = client.get(f"/api/v1/cases/{neighbours_case.number}")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "未找到该办件。", "details": {}}
    assert AuditEvent.objects.filter(action=EVENT, actor_username="neighbour").count() == 1


def test_a_scan_writes_one_entry_a_minute_per_route_and_counts_the_rest(client, neighbours_case, password, clock):
    login(client, "neighbour", password)
    for _ in range(20):
        assert client.get(f"/cases/{neighbours_case.number}/").status_code == 404
    client.get(f"/api/v1/cases/{neighbours_case.number}")  # another route: its own entry
    assert AuditEvent.objects.filter(action=EVENT).count() == 2

    clock.shift(timedelta(seconds=61))
    client.get(f"/cases/{neighbours_case.number}/")
    entries = AuditEvent.objects.filter(action=EVENT, changes__route="cases/<str:number>/").order_by("id")
    assert [entry.changes["held_back_since_last_entry"] for entry in entries] == [0, 19]


def test_a_number_that_does_not_exist_is_not_a_security_event(client, neighbours_case, password):
    login(client, "neighbour", password)
    assert client.get("/cases/YX20990101000001/").status_code == 404
    assert not AuditEvent.objects.filter(action=EVENT).exists()


def test_the_applicant_and_the_handling_window_record_nothing(client, neighbours_case, password):
    login(client, "citizen_demo", password)
    assert client.get(f"/cases/{neighbours_case.number}/").status_code == 200
    client.force_login(neighbours_case.intake_organisation.staff.get(username="window_centre"))
    assert client.get(f"/cases/{neighbours_case.number}/").status_code == 200
    assert not AuditEvent.objects.filter(action=EVENT).exists()


def test_an_enterprise_opening_another_enterprises_candidate_is_recorded(client, cast, password, clock):
    policy_services.load_policy_library(POLICY_RULES)
    for uscc, name in [("91440104MA5CYX1KXU", "示范科技有限公司"), ("91440104MA5D000020", "另一家有限公司")]:
        Enterprise.objects.create(
            uscc=uscc, name=name, district="越秀区", credit_status="良好", rd_expense=Decimal("1200000")
        )
    run = MatchRun.objects.create(period=2026, as_of=date(2026, 3, 2), started_by=cast["policy_kgsxj"])
    policy_services.execute_run(run.pk)
    own = Candidate.objects.filter(enterprise__name="示范科技有限公司").first()
    other = Candidate.objects.filter(enterprise__name="另一家有限公司").first()

    login(client, "enterprise_demo", password)
    assert client.get(f"/policies/mine/{own.pk}/").status_code == 200
    assert client.get(f"/policies/mine/{other.pk}/").status_code == 404
    event = AuditEvent.objects.get(action=EVENT)
    assert (event.actor_username, event.object_type, event.object_id) == (
        "enterprise_demo",
        "policies.candidate",
        str(other.pk),
    )


def test_an_editor_opening_another_departments_guide_version_is_recorded(client, catalogue, clock):
    from yuexiu.catalog.models import GuideVersion

    version = GuideVersion.objects.filter(item__organisation__code="440104-SJJ").first()  # 区市场监管局
    client.force_login(catalogue["editor_wjj"])  # 区卫生健康局
    assert client.get(f"/workbench/guides/{version.pk}/").status_code == 404
    client.force_login(catalogue["editor_scj"])
    assert client.get(f"/workbench/guides/{version.pk}/").status_code == 200
    event = AuditEvent.objects.get(action=EVENT)
    assert (event.actor_username, event.object_type) == ("editor_wjj", "catalog.guideversion")
