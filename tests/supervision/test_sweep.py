"""监督一点通: the warning and the red alert fire at the right instant and only once, also when two
sweeps run at once; a red alert opens one supervision order, which goes respond → verify → close."""

from __future__ import annotations

import threading

import pytest
import time_machine
from django.db import connection

from tests.helpers import at, food_licence_uploads
from yuexiu.cases import services as case_services
from yuexiu.catalog.models import ServiceItem
from yuexiu.core.errors import DomainError, PermissionDeniedError
from yuexiu.supervision import services
from yuexiu.supervision.models import Alert, SupervisedItem, SupervisionOrder


@pytest.fixture
def accepted_case(catalogue):
    """食品经营许可（新办） accepted Monday 2026-03-02 10:00: statutory 20 working days (no promised
    limit), so the warning (80% = 16 days) is 2026-03-24 00:00 and the deadline 2026-03-30 24:00."""
    food = ServiceItem.objects.get(seed_key="food-business-licence-new")
    SupervisedItem.objects.create(item=food)
    with time_machine.travel(at("2026-03-02T10:00"), tick=False):
        case = case_services.submit_application(
            item=food,
            applicant=catalogue["enterprise_demo"],
            idempotency_key="s-1",
            form_data={},
            uploads=food_licence_uploads(),
        )
        return case_services.accept_case(case=case, actor=catalogue["window_centre"])


def test_the_warning_fires_at_the_start_of_the_sixteenth_working_day_and_only_once(accepted_case):
    assert accepted_case.warning_at == at("2026-03-24T00:00")
    assert services.sweep(at("2026-03-23T23:59:59"))["time_share_used"] == 0
    assert services.sweep(at("2026-03-24T00:00"))["time_share_used"] == 1
    assert services.sweep(at("2026-03-24T09:00"))["time_share_used"] == 0
    alert = Alert.objects.get(rule="time_share_used")
    assert (alert.level, alert.organisation.code) == ("warning", "440104-SJJ")
    assert alert.message == f"办件 {accepted_case.number}：承诺时限即将用完"


def test_the_red_alert_fires_after_the_deadline_and_opens_one_order(accepted_case):
    assert services.sweep(at("2026-03-30T23:59:59"))["overdue"] == 0
    result = services.sweep(at("2026-03-31T00:00:01"))
    assert (result["overdue"], result["orders"]) == (1, 1)
    assert services.sweep(at("2026-03-31T10:00"))["orders"] == 0
    order = SupervisionOrder.objects.get()
    assert order.alert.rule == "overdue"
    assert order.organisation.code == "440104-SJJ"
    assert order.due_at == at("2026-04-03T23:59:59.999999")  # 3 working days


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_create_each_alert_once(accepted_case):
    barrier = threading.Barrier(2)

    def run():
        barrier.wait()
        try:
            services.sweep(at("2026-04-01T10:00"))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(Alert.objects.values_list("rule", flat=True)) == ["overdue", "time_share_used"]
    assert SupervisionOrder.objects.count() == 1


def test_a_paused_case_does_not_run_out_of_time(accepted_case, catalogue):
    with time_machine.travel(at("2026-03-03T10:00"), tick=False):
        case_services.request_correction(
            case=accepted_case, actor=catalogue["window_centre"], missing=["食品经营许可申请书"]
        )
    accepted_case.refresh_from_db()
    assert accepted_case.warning_at is None
    assert accepted_case.pause_alert_at == at("2026-03-17T23:59:59.999999")  # 10 working days
    result = services.sweep(at("2026-03-31T10:00"))
    assert (result["overdue"], result["time_share_used"], result["paused_too_long"]) == (0, 0, 1)


def test_a_correction_asking_for_what_the_guide_does_not_list_is_a_red_alert(accepted_case, catalogue):
    case_services.request_correction(
        case=accepted_case, actor=catalogue["window_centre"], missing=["食品经营许可申请书", "房东身份证复印件"]
    )
    accepted_case.refresh_from_db()
    assert accepted_case.corrections_beyond_guide == 1
    assert services.sweep()["correction_beyond_guide"] == 1


def test_items_not_under_supervision_are_not_swept(accepted_case):
    SupervisedItem.objects.all().delete()
    assert services.sweep(at("2026-04-01T10:00"))["overdue"] == 0


def test_the_order_loop_respond_verify_close(accepted_case, catalogue):
    services.sweep(at("2026-03-31T10:00"))
    order = SupervisionOrder.objects.get()
    with pytest.raises(PermissionDeniedError):
        services.respond_order(order=order, actor=catalogue["window_hongqiao"], response="已处理")
    services.respond_order(order=order, actor=catalogue["approver_scj"], response="已于当日作出决定并送达")
    with pytest.raises(DomainError, match="退回重办须说明理由"):
        services.verify_order(order=order, actor=catalogue["supervisor_demo"], accepted=False, note="")
    services.verify_order(order=order, actor=catalogue["supervisor_demo"], accepted=False, note="未说明超期原因")
    order.refresh_from_db()
    assert order.status == "issued"
    services.respond_order(order=order, actor=catalogue["approver_scj"], response="超期原因：现场核查排期")
    services.verify_order(order=order, actor=catalogue["supervisor_demo"], accepted=True, note="属实")
    order.refresh_from_db()
    assert order.status == "closed"


def test_an_integrity_supervisor_files_an_observation_that_opens_an_order(catalogue, reference_data):
    from yuexiu.core.models import Organisation

    order = services.file_observation(
        actor=catalogue["integrity_demo"],
        organisation=Organisation.objects.get(code="440104-SJJ"),
        content="窗口人员要求群众提供指南以外的证明材料",
    )
    assert order.number.startswith("JD")
    assert order.observation.filed_by == catalogue["integrity_demo"]
    with pytest.raises(PermissionDeniedError):
        services.file_observation(actor=catalogue["citizen_demo"], organisation=order.organisation, content="x")
