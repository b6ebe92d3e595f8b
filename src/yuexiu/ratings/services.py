"""好差评: giving ratings (一事一评) from the portal and the QR code on the result notice, the default
rating after the configured window, and the published statistics.

Rules and sources: five levels and 差评 = the two lowest (国办发〔2019〕51号; national technical scheme);
one rating per case; real-name; no staff member rates a case they handled; the default level and
window are dated rule parameters (``ratings.default_level``, ``ratings.default_after_days``: 粤办函〔2019〕274号,
基本满意 after 7 natural days). Formulas of the statistics: docs/ratings.md.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from yuexiu.cases.models import Case, CaseStatus
from yuexiu.core import audit, rules
from yuexiu.core.errors import Conflict, DomainError, NotFound, PermissionDeniedError
from yuexiu.core.models import Organisation, User
from yuexiu.ratings.models import NEGATIVE_LEVELS, Level, QuestionSet, Rating, RatingChannel

RATABLE = (CaseStatus.DELIVERED, CaseStatus.CLOSED, CaseStatus.DECLINED)
TOKEN_SALT = "yuexiu.ratings.case"
QUESTION_SETS = [
    {
        "kind": "online",
        "version": 1,
        "questions": ["办事效率", "办事指南精确度", "办事便捷度", "平台操作性"],
        "effective_from": date(2019, 12, 3),
        "source": "全国一体化在线政务服务平台“好差评”系统技术方案：网上服务二级指标（domain/rules.md §1.1）",
    },
    {
        "kind": "offline",
        "version": 1,
        "questions": ["服务效率", "服务水平", "服务态度"],
        "effective_from": date(2019, 12, 3),
        "source": "全国一体化在线政务服务平台“好差评”系统技术方案：现场服务二级指标（domain/rules.md §1.1）",
    },
]


def load_question_sets() -> int:
    """Create the question sets that do not exist yet; returns how many were created."""
    created = 0
    for entry in QUESTION_SETS:
        _, was_created = QuestionSet.objects.get_or_create(
            kind=entry["kind"],
            version=entry["version"],
            defaults={key: entry[key] for key in ("questions", "effective_from", "source")},
        )
        created += was_created
    return created


def current_question_set(case: Case, on: date | None = None) -> QuestionSet:
    """The latest question set in force for the case's channel (online or at a window)."""
    kind = "online" if case.channel == "online" else "offline"
    question_set = (
        QuestionSet.objects.filter(kind=kind, effective_from__lte=on or timezone.localdate())
        .order_by("-version")
        .first()
    )
    if question_set is None:
        raise NotFound("评价指标集尚未配置。")
    return question_set


def rating_token(case: Case) -> str:
    """The token printed as a QR code on the result notice: it names the case and proves the notice."""
    return signing.dumps({"case": case.number}, salt=TOKEN_SALT)


def case_from_token(token: str) -> Case:
    try:
        number = signing.loads(token, salt=TOKEN_SALT, max_age=timedelta(days=365))["case"]
    except (signing.BadSignature, KeyError, TypeError):
        raise NotFound("评价链接无效或已过期。") from None
    case = Case.objects.select_related("organisation", "applicant").filter(number=number).first()
    if case is None:
        raise NotFound("评价链接无效或已过期。")
    return case


def _handled(case: Case, user: User) -> bool:
    return case.events.filter(actor=user).exclude(action__in=("submitted", "corrected")).exists()


@transaction.atomic
def rate_case(
    *,
    case: Case,
    level: int,
    channel: str,
    rater: User | None = None,
    answers: dict[str, Any] | None = None,
    comment: str = "",
) -> Rating:
    """Give the one rating of a finished case (一事一评). ``rater`` is the signed-in applicant; for the
    QR channel ``None`` (the notice's token identifies the case, and its applicant is the rater).

    Raises ``Conflict`` when the case is already rated or not finished, ``PermissionDeniedError`` when
    the rater is not the applicant or handled the case, ``DomainError`` for a bad level or answer.
    """
    if level not in Level.values:
        raise DomainError("请选择评价等级：非常满意、满意、基本满意、不满意或非常不满意。", code="invalid_rating")
    if channel not in (RatingChannel.PORTAL, RatingChannel.QR):
        raise DomainError("该评价渠道暂未开通。", code="invalid_rating")
    if case.status not in RATABLE:
        raise Conflict("办件办结后才能评价。", code="not_finished")
    if channel == RatingChannel.PORTAL:
        if rater is None or rater.pk != case.applicant_id:
            raise PermissionDeniedError("只有申请人本人可以评价该办件。")
    if rater is not None and _handled(case, rater):
        raise PermissionDeniedError("工作人员不能评价本人经办的办件。")
    question_set = current_question_set(case)
    answers = answers or {}
    for question, value in answers.items():
        if question not in question_set.questions or value not in Level.values:
            raise DomainError(f"分项“{question}”的评价无效。", code="invalid_rating")
    if level in NEGATIVE_LEVELS and not comment.strip():
        raise DomainError("差评请填写意见，以便核实整改。", code="comment_required")
    try:
        with transaction.atomic():
            rating = Rating.objects.create(
                case=case,
                level=level,
                answers={question: int(value) for question, value in answers.items()},
                question_set=question_set,
                channel=channel,
                rater=rater or case.applicant,
                is_real_name=True,
                comment=comment.strip()[:1000],
                given_at=timezone.now(),
                organisation_id_snapshot=case.organisation_id,
            )
    except IntegrityError:
        raise Conflict("该办件已评价，每件办件只能评价一次。", code="already_rated") from None
    audit.record_event(action="rating.given", actor=rater, target=case, changes={"level": level, "channel": channel})
    return rating


def give_default_ratings(now: datetime | None = None) -> int:
    """Cases finished longer ago than ``ratings.default_after_days`` natural days and not rated get the
    default level (基本满意, 粤办函〔2019〕274号). Idempotent: the rating is unique per case."""
    now = now or timezone.now()
    days = int(rules.get_rule_value("ratings.default_after_days"))
    level = int(rules.get_rule_value("ratings.default_level"))
    cutoff = now - timedelta(days=days)
    finished = Case.objects.filter(status__in=RATABLE, rating__isnull=True).filter(
        Q(closed_at__lte=cutoff) | Q(closed_at__isnull=True, delivered_at__lte=cutoff)
    )
    sets = {kind: QuestionSet.objects.filter(kind=kind).order_by("-version").first() for kind in ("online", "offline")}
    ratings = [
        Rating(
            case_id=case_id,
            level=level,
            question_set=sets["online" if channel == "online" else "offline"],
            channel=RatingChannel.DEFAULT,
            rater_id=applicant_id,
            is_real_name=False,
            is_default=True,
            given_at=now,
            organisation_id_snapshot=organisation_id,
        )
        for case_id, channel, applicant_id, organisation_id in finished.values_list(
            "id", "channel", "applicant_id", "organisation_id"
        )
    ]
    with transaction.atomic():
        Rating.objects.bulk_create(ratings, ignore_conflicts=True)
    return len(ratings)


# ---- statistics ----------------------------------------------------------------------------------


@dataclass
class RatingFigures:
    """Counts for one department and the rates computed from them (docs/ratings.md)."""

    organisation: Organisation | None
    finished_cases: int = 0
    ratings: int = 0
    good: int = 0
    negative: int = 0
    active: int = 0
    levels: dict[int, int] = field(default_factory=dict)

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return round(part / whole * 100, 1) if whole else None

    @property
    def good_rate(self) -> float | None:
        return self._rate(self.good, self.ratings)

    @property
    def negative_rate(self) -> float | None:
        return self._rate(self.negative, self.ratings)

    @property
    def active_rate(self) -> float | None:
        return self._rate(self.active, self.finished_cases)


def rating_statistics(*, since: datetime, until: datetime | None = None) -> tuple[RatingFigures, list[RatingFigures]]:
    """District totals and per-department figures for ratings given in [since, until): 好评率, 差评率 over
    counted ratings (upheld appeals excluded), 主动评价率 over cases finished in the period."""
    until = until or timezone.now()
    organisations = Organisation.objects.in_bulk()
    rows: dict[int, RatingFigures] = defaultdict(lambda: RatingFigures(organisation=None))
    ratings = Rating.objects.filter(given_at__gte=since, given_at__lt=until, excluded=False)
    for organisation_id, level, is_default in ratings.values_list("organisation_id_snapshot", "level", "is_default"):
        row = rows[organisation_id]
        row.ratings += 1
        row.levels[level] = row.levels.get(level, 0) + 1
        row.good += level not in NEGATIVE_LEVELS
        row.negative += level in NEGATIVE_LEVELS
        row.active += not is_default
    finished = Case.objects.filter(status__in=RATABLE).filter(
        Q(closed_at__gte=since, closed_at__lt=until)
        | Q(closed_at__isnull=True, delivered_at__gte=since, delivered_at__lt=until)
    )
    for organisation_id in finished.values_list("organisation_id", flat=True):
        rows[organisation_id].finished_cases += 1
    total = RatingFigures(organisation=None)
    result = []
    for organisation_id, row in rows.items():
        row.organisation = organisations.get(organisation_id)
        for name in ("finished_cases", "ratings", "good", "negative", "active"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
        result.append(row)
    result.sort(
        key=lambda row: (
            row.organisation.sort_order if row.organisation else 0,
            row.organisation.code if row.organisation else "",
        )
    )
    return total, result
