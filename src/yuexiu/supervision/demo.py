"""The demo's work in progress (``yuexiu setup --demo``): the cases of ``cases.demo`` replayed with the
supervision sweep running every day as the worker would have run it, so the supervisor finds overdue
cases, fired alerts and a 督办 order awaiting verification, the departments find orders to answer, and
the integrity supervisor an observation being followed up, whatever today's date is. Idempotent: it
runs once, when none of its cases exists."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction

from yuexiu.cases import demo as cases_demo
from yuexiu.core.demo import Story, at
from yuexiu.core.models import Organisation, User
from yuexiu.supervision import services
from yuexiu.supervision.models import SupervisionOrder

BEIJING_SUBDISTRICT = "440104003000"  # 北京街道, where 黄窗口 (window_beijing) works
OBSERVATION = "北京街道便民服务窗口午间时段无人值守，群众等候超过 30 分钟，请核查窗口值守安排。"
RESPONSE = "已督促经办人员当日作出决定，超期原因为材料核验时未及时录入系统，已组织整改。"


@transaction.atomic
def load_demo_work() -> list[str]:
    """Replay the cases in progress with the daily sweep; returns the lines ``yuexiu setup`` prints."""
    if cases_demo.demo_cases_exist():
        return []
    users = {user.username: user for user in User.objects.all()}
    story = Story()
    cases = cases_demo.add_cases_in_progress(story, users)
    # The worker sweeps every five minutes; once a day (just after midnight, when day-end deadlines
    # have passed) fires each rule at the instant the worker would have fired it within a day.
    story.every_day(story.day(cases_demo.EARLIEST) + timedelta(days=1), "00:05", services.sweep)

    def answer_the_overdue_order() -> None:
        order = SupervisionOrder.objects.get(case=cases[cases_demo.PREFIX + "overdue-decision"], alert__rule="overdue")
        services.respond_order(order=order, actor=users["approver_scj"], response=RESPONSE)

    def observe() -> None:
        organisation = Organisation.objects.get(code=BEIJING_SUBDISTRICT)
        services.file_observation(actor=users["integrity_demo"], organisation=organisation, content=OBSERVATION)

    story.add(at(story.day(1), "16:30"), answer_the_overdue_order)
    story.add(at(story.day(2), "11:00"), observe)
    story.play()
    orders = SupervisionOrder.objects.count()
    return [f"演示在办件：{len(cases)} 件（各窗口、审批人员、市民和企业均有待办），预警与督办单：{orders} 件"]
