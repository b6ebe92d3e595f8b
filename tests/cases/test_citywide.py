"""全市通办: 许窗口 takes in an application for a body elsewhere, hands the materials over by post, and
records when the home-area body accepted it: the clock starts then, not at intake."""

from __future__ import annotations

import pytest
import time_machine

from tests.helpers import at
from yuexiu.cases import services
from yuexiu.catalog.models import ServiceItem
from yuexiu.core.errors import Conflict, DomainError


@pytest.fixture
def walk_in(catalogue):
    with time_machine.travel(at("2026-03-02T10:00"), tick=False):
        return services.submit_application(
            item=ServiceItem.objects.get(seed_key="individual-business-registration"),
            registered_by=catalogue["window_centre"],
            idempotency_key="citywide-1",
            form_data={},
            applicant_name="陈小明",
            applicant_id_number="440104199001010029",
        )


def test_an_outgoing_case_starts_its_clock_when_the_home_area_body_accepts(catalogue, walk_in):
    window = catalogue["window_centre"]
    with time_machine.travel(at("2026-03-02T10:05"), tick=False):
        services.register_citywide_intake(
            case=walk_in,
            actor=window,
            direction="outgoing",
            other_body="广州市天河区市场监督管理局",
            result_place="post",
        )
    with pytest.raises(Conflict, match="由办理地受理"):
        services.accept_case(case=walk_in, actor=window)
    with pytest.raises(DomainError, match="须填写邮件单号"):
        services.hand_over(case=walk_in, actor=window, method="post")
    with time_machine.travel(at("2026-03-02T16:00"), tick=False):
        transfer = services.hand_over(case=walk_in, actor=window, method="post", tracking_number="EMS123456789CN")
    assert transfer.tracking_number == "EMS123456789CN"
    with time_machine.travel(at("2026-03-04T11:00"), tick=False):
        case = services.record_home_acceptance(case=walk_in, actor=window, accepted_at=at("2026-03-04T09:30"))
    assert case.status == "accepted"
    assert case.accepted_at == at("2026-03-04T09:30")
    assert case.statutory_deadline == at("2026-03-09T23:59:59.999999")  # 3 working days from the 4th
    assert list(case.events.values_list("action", flat=True)) == [
        "submitted",
        "citywide_registered",
        "handed_over",
        "accepted",
    ]


def test_home_acceptance_needs_the_hand_over_first_and_a_sane_time(catalogue, walk_in):
    window = catalogue["window_centre"]
    services.register_citywide_intake(
        case=walk_in, actor=window, direction="outgoing", other_body="广州市海珠区市场监督管理局", result_place="intake"
    )
    with pytest.raises(Conflict, match="须先移交材料"):
        services.record_home_acceptance(case=walk_in, actor=window, accepted_at=at("2026-03-02T12:00"))
    with time_machine.travel(at("2026-03-02T16:00"), tick=False):
        services.hand_over(case=walk_in, actor=window, method="electronic")
        with pytest.raises(DomainError, match="应在材料移交之后"):
            services.record_home_acceptance(case=walk_in, actor=window, accepted_at=at("2026-03-02T15:00"))
