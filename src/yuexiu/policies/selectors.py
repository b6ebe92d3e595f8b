"""Read-side queries of 政策兑现, scoped to what the viewer may see."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from yuexiu.core import audit
from yuexiu.core.errors import NotFound
from yuexiu.core.models import User
from yuexiu.core.selectors import own_organisation_ids
from yuexiu.policies.models import BenefitItem, Candidate, CandidateStatus, Enterprise


def handled_items(user: User) -> QuerySet[BenefitItem]:
    """Items of the departments the officer answers for, with counts per state."""
    return (
        BenefitItem.objects.filter(organisation_id__in=own_organisation_ids(user))
        .select_related("policy", "fund_pool")
        .annotate(
            pending=Count("candidates", filter=Q(candidates__status=CandidateStatus.PENDING_REVIEW)),
            approved=Count("candidates", filter=Q(candidates__status=CandidateStatus.APPROVED)),
            in_publicity=Count("candidates", filter=Q(candidates__status=CandidateStatus.IN_PUBLICITY)),
            to_pay=Count(
                "candidates",
                filter=Q(candidates__status__in=(CandidateStatus.PUBLICITY_PASSED, CandidateStatus.ORDERED)),
            ),
            paid=Count("candidates", filter=Q(candidates__status=CandidateStatus.PAID)),
        )
    )


def review_queue_counts(user: User) -> dict[str, int]:
    """Candidates of the officer's departments waiting for review or payment (illustrations never
    wait for either: they cannot be approved or paid)."""
    candidates = Candidate.objects.filter(
        item__organisation_id__in=own_organisation_ids(user), item__illustration=False
    )
    return {
        "pending": candidates.filter(status=CandidateStatus.PENDING_REVIEW).count(),
        "to_pay": candidates.filter(status__in=(CandidateStatus.PUBLICITY_PASSED, CandidateStatus.ORDERED)).count(),
    }


def enterprise_of(user: User) -> Enterprise | None:
    """The registry record of a verified enterprise account (None otherwise): an account that has
    not been verified as the enterprise's sees none of its data."""
    if not user.is_authenticated or user.account_type != "enterprise" or not user.enterprise_verified:
        return None
    return Enterprise.objects.filter(uscc=user.enterprise_uscc).first()


def access_own_candidate(user: User, pk: int) -> Candidate:
    """A fulfilment candidate for the verified account of its enterprise (My policies); ``NotFound``
    for anyone else, and another enterprise's candidate is recorded as a security event
    (``audit.concealed``)."""
    candidate = (
        Candidate.objects.select_related("item", "item__policy", "publicity", "rule_file", "enterprise")
        .filter(pk=pk)
        .first()
    )
    if candidate is None:
        raise NotFound("未找到该兑现记录。")
    enterprise = enterprise_of(user)
    if enterprise is None or candidate.enterprise_id != enterprise.pk:
        raise audit.concealed(candidate, "未找到该兑现记录。")
    return candidate


def sees_research(user: User) -> bool:
    """Research notes, confidence marks and why an award was not entered are for staff only: the
    public and enterprises see the policy as issued."""
    return bool(user.is_authenticated and user.is_staff_account)
