"""Demo activity for ``yuexiu setup --demo``: finished cases of four departments over the last four
months, rated on several channels, with 差评 at every stage of their loop, and the work the 差评 loop
gives its roles today: a 差评 the rated unit is rectifying, one awaiting the 12345 hotline's callback
whose rater has asked for a review of its handling (申诉复核, a supervisor's to decide), and a finished
case the citizen has not rated yet.

Told as a ``core.demo.Story`` (instants counted back from today on the working-day calendar) and
replayed through the case and rating services, with the hourly rating job (default ratings, overdue
steps escalated) run every day as the worker would have run it. Deterministic (``random.Random(2024)``),
so the statistics it yields can be quoted; runs once (idempotent)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction

from yuexiu.cases import services as cases
from yuexiu.cases.models import Case
from yuexiu.cases.services import Upload
from yuexiu.catalog.models import ServiceItem
from yuexiu.core.demo import Story, at, working_days_before
from yuexiu.core.models import User
from yuexiu.core.workdays import local_date
from yuexiu.ratings import services
from yuexiu.ratings.models import Rectification

ITEMS = {  # item seed key -> (approver demo account, working days from acceptance to decision)
    "food-business-licence-new": ("approver_scj", 3),
    "individual-business-registration": ("approver_scj", 2),
    "public-place-hygiene-licence": ("approver_wjj", 0),  # 告知承诺: decided on the day
    "residence-permit": ("approver_gaj", 3),
    "hr-service-licence": ("approver_rsj", 3),
}
CASES = 60
FIRST_KEY = "demo-0"  # the finished cases are demo-0 … demo-59
PDF = b"%PDF-1.7\n% demo material\n"
COMPLAINT = "等候时间较长，窗口引导不清晰"
STEP_NOTES = ("已联系评价人核实", "属实", "已整改", "已答复")
CALLBACK_NOTE = "回访满意"


def _applicant(item: ServiceItem, users: dict[str, User]) -> User:
    """Items for 法人 are applied for by the demo enterprise, the others by the demo citizen."""
    citizen = users["citizen_demo"]
    return users["enterprise_demo"] if cases.service_object_refusal(item, citizen) else citizen


def _finished_case(
    story: Story, users: dict[str, User], item: ServiceItem, key: str, finished: datetime, state: dict[str, Any]
) -> None:
    """Add the steps of a case submitted, accepted, approved, delivered and closed at ``finished``
    (submitted and accepted the required working days before, approved an hour before)."""
    approver, days = ITEMS[item.seed_key]
    window = users["window_centre"]
    accepted = at(working_days_before(local_date(finished), days, story.calendar), "10:00")

    def submit() -> None:
        state[key] = cases.submit_application(
            item=item,
            applicant=_applicant(item, users),
            idempotency_key=key,
            form_data={},
            uploads=[Upload(name, "材料.pdf", PDF) for name in cases.required_uploads(item)],
            confirm_repeat=True,  # the demo applicants apply often, and confirm a repeat application
        )

    story.add(accepted - timedelta(minutes=30), submit)
    story.add(accepted, lambda: state.update({key: cases.accept_case(case=state[key], actor=window)}))
    story.add(
        finished - timedelta(hours=1),
        lambda: state.update({key: cases.approve_case(case=state[key], actor=users[approver])}),
    )
    story.add(
        finished,
        lambda: state.update({key: cases.deliver_result(case=state[key], actor=window, method="electronic")}),
    )
    story.add(
        finished + timedelta(minutes=5), lambda: state.update({key: cases.close_case(case=state[key], actor=window)})
    )


def _rectify(
    story: Story, users: dict[str, User], key: str, approver: str, rated: datetime, state: dict[str, Any]
) -> None:
    """Add the steps of a 差评 given at ``rated``: the unit's approver verifies, classifies, rectifies and
    replies on the first working day after, the 12345 hotline calls back on the next. A step that would
    fall after now is left undone (the story never runs ahead of the clock)."""
    day = _next_working_day(story, local_date(rated))
    instants = [at(day, clock) for clock in ("10:00", "10:30", "11:00", "14:00")]
    instants.append(at(_next_working_day(story, day), "10:00"))
    for number, instant in enumerate(instants):
        if instant > story.now:
            return
        callback = number == len(STEP_NOTES)

        def advance(number: int = number, callback: bool = callback) -> None:
            services.advance_rectification(
                rectification=Rectification.objects.get(rating__case=state[key]),
                actor=users["hotline_demo" if callback else approver],
                note=CALLBACK_NOTE if callback else STEP_NOTES[number],
                classification="immediate",
                callback_level=4 if callback else None,
            )

        story.add(instant, advance)


def _next_working_day(story: Story, day: date) -> date:
    current = day + timedelta(days=1)
    while not story.calendar.is_working_day(current):
        current += timedelta(days=1)
    return current


@transaction.atomic
def load_demo_activity() -> int:
    """Create the demo cases and ratings unless they exist; returns the number of finished cases created."""
    if Case.objects.filter(idempotency_key=FIRST_KEY).exists():
        return 0
    services.load_question_sets()
    users = {user.username: user for user in User.objects.all()}
    items = {item.seed_key: item for item in ServiceItem.objects.filter(seed_key__in=ITEMS)}
    rng = random.Random(2024)
    story = Story()
    state: dict[str, Any] = {}
    earliest = story.today
    for number in range(CASES):
        key = list(ITEMS)[number % len(ITEMS)]
        item = items[key]
        # The finishing day: a working day 8 to 120 days ago (on or before the drawn day).
        day = story.today - timedelta(days=rng.randint(8, 120))
        while not story.calendar.is_working_day(day):
            day -= timedelta(days=1)
        finished = at(day, "12:00") + timedelta(minutes=30 * rng.randint(0, 8))
        earliest = min(earliest, working_days_before(day, ITEMS[key][1], story.calendar))
        case_key = f"demo-{number}"
        _finished_case(story, users, item, case_key, finished, state)
        draw = rng.random()
        if draw < 0.1:
            continue  # not rated: the default rating covers it
        channel = rng.choice(["portal", "qr", "qr"])
        level = 5 if draw < 0.6 else 4 if draw < 0.8 else 3 if draw < 0.88 else 2 if draw < 0.94 else 1
        given = finished + timedelta(hours=rng.randint(1, 72))

        def rate(case_key=case_key, channel=channel, level=level) -> None:
            case = state[case_key]
            services.rate_case(
                case=case,
                channel=channel,
                level=level,
                rater=case.applicant if channel == "portal" else None,
                comment=COMPLAINT if level <= 2 else "",
            )

        story.add(given, rate)
        if level <= 2 and rng.random() < 0.6:
            _rectify(story, users, case_key, ITEMS[key][0], given, state)
    _add_todays_work(story, users, items, state)

    def rating_job() -> None:  # the worker's hourly job, once a day: default ratings, overdue steps
        services.give_default_ratings()
        services.escalate_overdue_rectifications()

    story.every_day(earliest, "00:20", rating_job)
    story.play()
    return CASES


def _add_todays_work(
    story: Story, users: dict[str, User], items: dict[str, ServiceItem], state: dict[str, Any]
) -> None:
    """What the 差评 loop and the citizen have to do today: a 差评 of 区市场监管局 at its rectification,
    one of 区人社局 awaiting the hotline's callback, a finished case the citizen has not rated yet."""
    rectifying = at(story.day(6), "16:00")
    _finished_case(story, users, items["individual-business-registration"], "demo-rating-rectify", rectifying, state)
    story.add(
        at(story.day(5), "20:00"),
        lambda: services.rate_case(
            case=state["demo-rating-rectify"],
            channel="portal",
            level=2,
            rater=users["citizen_demo"],
            comment="营业执照领取等了很久，现场没有人指引",
        ),
    )
    # Verified and classified (限期整改) on the next working day; the rectification itself is due later.
    for number, clock in enumerate(("10:00", "10:30")):
        story.add(
            at(story.day(4), clock),
            lambda number=number: services.advance_rectification(
                rectification=Rectification.objects.get(rating__case=state["demo-rating-rectify"]),
                actor=users["approver_scj"],
                note=("已电话联系评价人核实，情况属实", "窗口引导不足，限期整改")[number],
                classification="scheduled",
            ),
        )
    calling_back = at(story.day(8), "15:00")
    _finished_case(story, users, items["hr-service-licence"], "demo-rating-callback", calling_back, state)
    story.add(
        at(story.day(7), "09:30"),
        lambda: services.rate_case(
            case=state["demo-rating-callback"], channel="qr", level=1, comment="窗口说法前后不一，跑了两趟"
        ),
    )
    notes = ("已联系评价人核实", "属实，立行立改", "已统一一次性告知清单", "已向评价人答复整改措施")
    for number, (days_ago, clock) in enumerate(((6, "10:00"), (6, "10:30"), (5, "11:00"), (4, "14:00"))):
        story.add(
            at(story.day(days_ago), clock),
            lambda number=number: services.advance_rectification(
                rectification=Rectification.objects.get(rating__case=state["demo-rating-callback"]),
                actor=users["approver_rsj"],
                note=notes[number],
                classification="immediate",
            ),
        )
    # The rater reads the reply and asks for a review of the handling (申诉复核): a supervisor's to decide.
    story.add(
        at(story.day(3), "09:00"),
        lambda: services.request_handling_review(
            rating=state["demo-rating-callback"].rating,
            reason="答复说已统一一次性告知清单，但我再去时窗口仍要求补交清单以外的材料",
            channel="portal",
            requester=state["demo-rating-callback"].applicant,
        ),
    )
    _finished_case(story, users, items["residence-permit"], "demo-rating-to-rate", at(story.day(1), "16:00"), state)
