"""The 监督一点通 pages: orders answered by the department, verified by the supervisor; items chosen."""

from __future__ import annotations

from tests.helpers import at
from tests.supervision.test_sweep import accepted_case  # noqa: F401  # shared fixture
from yuexiu.supervision import services
from yuexiu.supervision.models import SupervisedItem, SupervisionOrder


def test_the_department_answers_and_the_supervisor_closes_an_order_on_the_page(client, catalogue, accepted_case):  # noqa: F811
    services.sweep(at("2026-03-31T10:00"))
    order = SupervisionOrder.objects.get()
    client.force_login(catalogue["approver_scj"])
    page = client.get("/workbench/supervision/").content.decode()
    assert order.number in page and "超期未办结" in page
    client.post(f"/workbench/supervision/orders/{order.number}/respond/", {"version": 1, "response": "已作出决定"})
    client.force_login(catalogue["supervisor_demo"])
    client.post(f"/workbench/supervision/orders/{order.number}/close/", {"version": 2, "note": "核实属实"})
    order.refresh_from_db()
    assert order.status == "closed"
    assert "预警与督办" in client.get("/workbench/").content.decode()


def test_a_subdistrict_officer_sees_no_other_departments_orders(client, catalogue, accepted_case):  # noqa: F811
    services.sweep(at("2026-03-31T10:00"))
    order = SupervisionOrder.objects.get()
    client.force_login(catalogue["window_hongqiao"])
    assert order.number not in client.get("/workbench/supervision/").content.decode()
    response = client.post(f"/workbench/supervision/orders/{order.number}/respond/", {"response": "x"})
    assert response.status_code == 403


def test_supervisors_choose_the_items_under_supervision(client, catalogue, accepted_case):  # noqa: F811
    client.force_login(catalogue["supervisor_demo"])
    item = SupervisedItem.objects.get().item
    client.post("/workbench/supervision/items/", {"item": item.pk, "supervised": "0"})
    assert not SupervisedItem.objects.exists()
    client.force_login(catalogue["approver_scj"])
    assert client.get("/workbench/supervision/items/").status_code == 403


def test_the_dashboard_shows_on_time_rate_and_average_working_days(client, catalogue, accepted_case):  # noqa: F811
    import time_machine

    from yuexiu.cases import services as case_services

    with time_machine.travel(at("2026-03-05T10:00"), tick=False):
        case_services.approve_case(case=accepted_case, actor=catalogue["approver_scj"])
    with time_machine.travel(at("2026-03-20T10:00"), tick=False):
        client.force_login(catalogue["supervisor_demo"])
        html = client.get("/workbench/dashboard/", {"days": "30"}).content.decode()
    row = html.split('id="department-figures"')[1]
    assert "区市场监管局</td><td>1</td>" in row
    assert "<td>100%</td>" in row
    assert "<td>3.0</td>" in row  # accepted Monday 2 March, decided Thursday 5 March: 3 working days
    assert 'id="chart-data"' in html and "echarts.min.js" in html
