"""Reads of 好差评, scoped to what the viewer may see and do: the rated unit's staff see and handle
their units' 差评 up to the reply; the callback makers (12345 hotline operators, supervisors) see every
差评 awaiting its callback and record the callbacks of units other than their own."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import F, Q, QuerySet

from yuexiu.core.models import Role, User
from yuexiu.core.selectors import own_organisation_ids, visible_organisation_ids
from yuexiu.core.services import has_role
from yuexiu.ratings import services
from yuexiu.ratings.models import HandlingReview, Rating, Rectification, Step


def list_rectifications(user: User) -> QuerySet[Rectification]:
    """The 差评 rectifications on ``user``'s workbench, open ones first (nearest step deadline first),
    then closed ones: those of the organisations ``user`` may see and, for a callback maker, every one
    awaiting its callback. Empty for citizens and enterprises."""
    rectifications = Rectification.objects.select_related(
        "rating__case__item", "rating__visit", "organisation", "rating__appeal", "escalation"
    )
    visible = visible_organisation_ids(user)
    if visible is not None:
        scope = Q(organisation_id__in=visible)
        if services.makes_callbacks(user):
            scope |= Q(step=Step.CALLBACK)
        rectifications = rectifications.filter(scope)
    return rectifications.order_by(F("closed_at").asc(nulls_first=True), F("step_due_at").asc(nulls_last=True), "id")


def list_steps_to_record(user: User) -> QuerySet[Rectification]:
    """The open 差评 whose current step ``user`` may record now: the verification, classification,
    rectification and reply of their own units' 差评, and the callbacks they may make
    (``services.can_make_callback``)."""
    own = own_organisation_ids(user)
    scope = Q(organisation_id__in=own) & ~Q(step__in=(Step.CALLBACK, Step.CLOSED))
    if services.makes_callbacks(user):
        scope |= Q(step=Step.CALLBACK) & ~Q(organisation_id__in=own) & ~Q(officer_id=user.pk)
    return list_rectifications(user).filter(scope)


def list_callbacks_due(user: User) -> QuerySet[Rectification]:
    """The 差评 awaiting a callback that ``user`` may make (empty for everyone without a callback role)."""
    return list_steps_to_record(user).filter(step=Step.CALLBACK)


def handling_for_rater(rating: Rating | None) -> dict[str, Any] | None:
    """What the rater of a real-name 差评 sees of its handling (the case page and the rating link):
    ``{"rectification", "step", "reply": {"note", "at"} | None, "called_back": bool, "reviews":
    [HandlingReview], "refusal": str ("" when a review may be asked now), "request_deadline": datetime
    | None}``. ``None`` when there is no 差评 handling to show (no rating, not a 差评, anonymous)."""
    rectification = getattr(rating, "rectification", None) if rating is not None else None
    if rating is None or rectification is None or rating.is_anonymous:
        return None
    reply = rectification.notes.get(Step.REPLY)
    return {
        "rectification": rectification,
        "step": rectification.get_step_display(),
        "reply": {"note": reply["note"], "at": datetime.fromisoformat(reply["at"])} if reply else None,
        "called_back": rectification.callback_level is not None,
        "reviews": list(rectification.reviews.select_related("decided_by").order_by("requested_at", "id")),
        "refusal": services.review_refusal(rating),
        "request_deadline": services.review_request_deadline(rectification),
    }


def list_reviews_to_decide(user: User) -> QuerySet[HandlingReview]:
    """The raters' review requests awaiting a decision, for supervisors (earliest deadline first);
    empty for everyone else. Whether ``user`` may decide each one: ``services.can_decide_review``."""
    if not has_role(user, Role.SUPERVISOR):
        return HandlingReview.objects.none()
    return (
        HandlingReview.objects.filter(outcome="")
        .select_related("rectification__rating__case__item", "rectification__organisation")
        .order_by(F("due_at").asc(nulls_last=True), "id")
    )
