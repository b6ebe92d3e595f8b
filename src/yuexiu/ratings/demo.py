"""Demo activity for `yuexiu setup --demo`: finished cases of four departments over the last four
months, rated on several channels, with 差评 at every stage of their loop. Deterministic
(``random.Random(2024)``), so the statistics it yields can be quoted; run once (idempotent)."""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from yuexiu.cases import services as cases
from yuexiu.cases.models import Case
from yuexiu.cases.services import Upload
from yuexiu.catalog.models import ServiceItem
from yuexiu.core.models import User
from yuexiu.ratings import services
from yuexiu.ratings.models import Rating, Rectification

ITEMS = {  # item seed key -> approver demo account
    "food-business-licence-new": "approver_scj",
    "individual-business-registration": "approver_scj",
    "public-place-hygiene-licence": "approver_wjj",
    "residence-permit": "approver_gaj",
    "hr-service-licence": "approver_rsj",
}
CASES = 60
PDF = b"%PDF-1.7\n% demo material\n"


@transaction.atomic
def load_demo_activity() -> int:
    """Create the demo cases and ratings unless they exist; returns the number of cases created."""
    if Case.objects.filter(idempotency_key__startswith="demo-").exists():
        return 0
    services.load_question_sets()
    users = {user.username: user for user in User.objects.all()}
    items = {item.seed_key: item for item in ServiceItem.objects.filter(seed_key__in=ITEMS)}
    rng = random.Random(2024)
    now = timezone.now()
    for number in range(CASES):
        key = list(ITEMS)[number % len(ITEMS)]
        item = items[key]
        # Items for 法人 are applied for with the enterprise's account, the others by the citizen.
        applicant = users[
            "enterprise_demo" if cases.service_object_refusal(item, users["citizen_demo"]) else "citizen_demo"
        ]
        case = cases.submit_application(
            item=item,
            applicant=applicant,
            idempotency_key=f"demo-{number}",
            form_data={},
            uploads=[Upload(name, "材料.pdf", PDF) for name in cases.required_uploads(item)],
        )
        case = cases.accept_case(case=case, actor=users["window_centre"])
        case = cases.approve_case(case=case, actor=users[ITEMS[key]])
        case = cases.deliver_result(case=case, actor=users["window_centre"], method="electronic")
        case = cases.close_case(case=case, actor=users["window_centre"])
        finished = now - timedelta(days=rng.randint(8, 120), hours=rng.randint(0, 8))
        Case.objects.filter(pk=case.pk).update(
            submitted_at=finished - timedelta(days=3),
            accepted_at=finished - timedelta(days=3),
            decided_at=finished - timedelta(hours=2),
            delivered_at=finished,
            closed_at=finished,
        )
        draw = rng.random()
        if draw < 0.1:
            continue  # not rated: the default rating covers it
        channel = rng.choice(["portal", "qr", "qr"])
        level = 5 if draw < 0.6 else 4 if draw < 0.8 else 3 if draw < 0.88 else 2 if draw < 0.94 else 1
        rating = services.rate_case(
            case=case,
            channel=channel,
            level=level,
            rater=applicant if channel == "portal" else None,
            comment="等候时间较长，窗口引导不清晰" if level <= 2 else "",
        )
        Rating.objects.filter(pk=rating.pk).update(given_at=finished + timedelta(hours=rng.randint(1, 72)))
        if rating.is_negative and rng.random() < 0.6:
            rectification = Rectification.objects.get(rating=rating)
            approver = users[ITEMS[key]]
            for step_note in ("已联系评价人核实", "属实", "已整改", "已答复", "回访满意"):
                rectification = services.advance_rectification(
                    rectification=rectification,
                    actor=approver,
                    note=step_note,
                    classification="immediate",
                    callback_level=4,
                )
    services.give_default_ratings(now)
    return CASES
