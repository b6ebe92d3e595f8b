"""好差评: giving ratings (一事一评) from the portal and the QR code on the result notice, the default
rating after the configured window, and the published statistics.

Rules and sources: five levels and 差评 = the two lowest (国办发〔2019〕51号; national technical scheme);
one rating per case; real-name; no staff member rates a case they handled; the default level and
window are dated rule parameters (``ratings.default_level``, ``ratings.default_after_days``: 粤办函〔2019〕274号,
基本满意 at the end of the 7th natural day; kept as the platform's default, confidence U, under
粤办函〔2020〕21号 from 2020-02-19). Formulas of the statistics: docs/ratings.md.
"""

from __future__ import annotations

import hashlib
import random
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from yuexiu.cases.models import Case, CaseStatus
from yuexiu.cases.services import CENTRE_CODE
from yuexiu.core import audit, rules, throttle
from yuexiu.core.calendar import get_calendar
from yuexiu.core.errors import Conflict, DomainError, NotFound, PermissionDeniedError
from yuexiu.core.models import Organisation, OutboxMessage, Role, User
from yuexiu.core.selectors import own_organisation_ids
from yuexiu.core.services import has_role
from yuexiu.core.text_limits import TextLimit, TextTooLong, check_lengths, length_problem
from yuexiu.core.workdays import CalendarError, WorkingDayCalendar, end_of_local_day, local_date
from yuexiu.ratings.models import (
    NEGATIVE_LEVELS,
    STEP_ORDER,
    Appeal,
    AppealKind,
    CheckOutcome,
    Classification,
    DeviceKind,
    HandlingReview,
    Level,
    QuestionSet,
    Rating,
    RatingChannel,
    RatingDevice,
    Rectification,
    ReviewChannel,
    ReviewOutcome,
    SelfCheck,
    Step,
    Visit,
)
from yuexiu.supervision import services as supervision_services
from yuexiu.supervision.models import SupervisionOrder

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


def rating_token(case: Case, *, via: str = "qr") -> str:
    """The token of a rating link: the QR code on the result notice (``qr``) or the SMS (``sms``). It
    names the case and the channel, and proves the notice or the message."""
    return signing.dumps({"case": case.number, "via": via}, salt=TOKEN_SALT)


def token_channel(token: str) -> str:
    """The channel a valid token was issued for (``qr`` or ``sms``)."""
    try:
        via = signing.loads(token, salt=TOKEN_SALT, max_age=timedelta(days=365)).get("via", "qr")
    except (signing.BadSignature, AttributeError):
        return "qr"
    return "sms" if via == "sms" else "qr"


def case_from_token(token: str) -> Case:
    try:
        number = signing.loads(token, salt=TOKEN_SALT, max_age=timedelta(days=365))["case"]
    except (signing.BadSignature, KeyError, TypeError):
        raise NotFound("评价链接无效或已过期。") from None
    case = Case.objects.select_related("organisation", "applicant").filter(number=number).first()
    if case is None:
        raise NotFound("评价链接无效或已过期。")
    return case


def _checked_answers(
    question_set: QuestionSet, level: int, answers: dict[str, Any] | None, comment: str
) -> dict[str, int]:
    """The per-indicator answers, checked against the question set; a 差评 needs a comment, and a
    comment is at most ``TextLimit.COMMENT`` characters.

    Raises ``DomainError`` (``TextTooLong`` for the length) whose ``details["field"]`` names the form
    field at fault (``answers`` with the ``question``, or ``comment``), so a page can point at it."""
    if problem := length_problem("意见", comment, TextLimit.COMMENT):
        raise TextTooLong(problem, details={"errors": [problem], "field": "comment"})
    answers = answers or {}
    for question, value in answers.items():
        if question not in question_set.questions or value not in Level.values:
            raise DomainError(
                f"分项“{question}”的评价无效。",
                code="invalid_rating",
                details={"field": "answers", "question": question},
            )
    if level in NEGATIVE_LEVELS and not comment.strip():
        raise DomainError("差评请填写意见，以便核实整改。", code="comment_required", details={"field": "comment"})
    return {question: int(value) for question, value in answers.items()}


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
    entered_by: User | None = None,
) -> Rating:
    """Give the one rating of a finished case (一事一评). ``rater`` is the signed-in applicant; for the
    QR channel ``None`` (the notice's token identifies the case, and its applicant is the rater).

    Raises ``Conflict`` when the case is already rated or not finished, ``PermissionDeniedError`` when
    the rater is not the applicant or handled the case, ``DomainError`` for a bad level or answer.
    """
    if level not in Level.values:
        raise DomainError(
            "请选择评价等级：非常满意、满意、基本满意、不满意或非常不满意。",
            code="invalid_rating",
            details={"field": "level"},
        )
    if channel not in (RatingChannel.PORTAL, RatingChannel.QR, RatingChannel.SMS, RatingChannel.HOTLINE):
        raise DomainError("该评价渠道暂未开通。", code="invalid_rating")
    if channel == RatingChannel.HOTLINE and (
        entered_by is None or not has_role(entered_by, Role.HOTLINE_OPERATOR) or _handled(case, entered_by)
    ):
        raise PermissionDeniedError("12345 评价须由未经办该办件的热线话务员录入。")
    if case.status not in RATABLE:
        raise Conflict("办件办结后才能评价。", code="not_finished")
    if channel == RatingChannel.PORTAL:
        if rater is None or rater.pk != case.applicant_id:
            raise PermissionDeniedError("只有申请人本人可以评价该办件。")
    if rater is not None and _handled(case, rater):
        raise PermissionDeniedError("工作人员不能评价本人经办的办件。")
    question_set = current_question_set(case)
    answers = _checked_answers(question_set, level, answers, comment)
    try:
        with transaction.atomic():
            rating = Rating.objects.create(
                case=case,
                level=level,
                answers=answers,
                question_set=question_set,
                channel=channel,
                rater=rater or case.applicant,
                entered_by=entered_by,
                is_real_name=True,
                comment=comment.strip(),
                given_at=timezone.now(),
                organisation_id_snapshot=case.organisation_id,
                window_id_snapshot=case.intake_organisation_id,
                officer_id_snapshot=getattr(_responsible_officer(case), "pk", None),
            )
    except IntegrityError:
        raise Conflict("该办件已评价，每件办件只能评价一次。", code="already_rated") from None
    audit.record_event(
        action="rating.given", actor=rater or entered_by, target=case, changes={"level": level, "channel": channel}
    )
    if rating.is_negative:
        open_rectification(rating)
    return rating


def default_rating_due(finished_at: datetime, calendar: WorkingDayCalendar | None = None) -> datetime | None:
    """The instant (aware, UTC) a case finished at ``finished_at`` and still unrated gets the default
    rating: 24:00 Asia/Shanghai at the end of the ``ratings.default_after_days``-th natural day after the
    finishing day (that day not counted), the last day moved to the day after a statutory holiday or
    rest day as any natural-day period is (《民法典》第二百零一条、第二百零三条; ``natural_deadline``).

    The rule in force on the finishing day applies (粤办函〔2019〕274号 from 2019-08-09; from 2020-02-19
    the platform's default under 粤办函〔2020〕21号, whose rule was not found: confidence U). Returns
    ``None`` when no rule was in force that day (no default rating existed) or the calendar cannot count
    that far."""
    finished_on = local_date(finished_at)
    try:
        days = int(rules.get_rule_value("ratings.default_after_days", finished_on))
        period_end = (calendar or get_calendar()).natural_deadline(finished_at, days)
    except (NotFound, CalendarError):
        return None
    return period_end + timedelta(microseconds=1)  # 23:59:59.999999 local is the last instant of the period


def give_default_ratings(now: datetime | None = None) -> int:
    """Every finished case (delivered, closed or declined) still unrated when its rating period has
    ended (``default_rating_due``: the end of the 7th natural day after it finished) gets the default
    level in force on its finishing day (``ratings.default_level``: 基本满意), marked as default and given
    at the instant the period ended. Returns the number of ratings written. Idempotent: the rating is
    unique per case, so a second or concurrent run writes nothing more."""
    now = now or timezone.now()
    calendar = get_calendar()
    by_day: dict[date, tuple[datetime | None, int]] = {}  # finishing day -> (due instant, default level)
    sets = {kind: QuestionSet.objects.filter(kind=kind).order_by("-version").first() for kind in ("online", "offline")}
    ratings = []
    for case_id, channel, applicant_id, organisation_id, intake_id, closed_at, delivered_at in (
        Case.objects.filter(status__in=RATABLE, rating__isnull=True)
        .filter(Q(closed_at__lte=now) | Q(closed_at__isnull=True, delivered_at__lte=now))
        .values_list(
            "id", "channel", "applicant_id", "organisation_id", "intake_organisation_id", "closed_at", "delivered_at"
        )
    ):
        finished_at = closed_at or delivered_at
        finished_on = local_date(finished_at)
        if finished_on not in by_day:
            due = default_rating_due(finished_at, calendar)
            try:
                level = int(rules.get_rule_value("ratings.default_level", finished_on))
            except NotFound:  # no default level in force that day: no default rating either
                due, level = None, 0
            by_day[finished_on] = (due, level)
        due, level = by_day[finished_on]
        if due is None or now < due:
            continue
        ratings.append(
            Rating(
                case_id=case_id,
                level=level,
                question_set=sets["online" if channel == "online" else "offline"],
                channel=RatingChannel.DEFAULT,
                rater_id=applicant_id,
                is_real_name=False,
                is_default=True,
                given_at=due,
                organisation_id_snapshot=organisation_id,
                window_id_snapshot=intake_id,
            )
        )
    with transaction.atomic():
        Rating.objects.bulk_create(ratings, ignore_conflicts=True)
    return len(ratings)


# ---- statistics ----------------------------------------------------------------------------------


@dataclass
class AnonymousFigures:
    """On-site ratings given anonymously (一次一评 at the window tablet or the kiosk). Guangdong ratings
    are real-name (实名制, domain/rules.md §1.3), so these are counted apart and never enter the
    real-name figures (docs/ratings.md)."""

    visits: int = 0
    rated_visits: int = 0
    ratings: int = 0
    good: int = 0
    negative: int = 0
    rectified_on_time: int = 0

    @property
    def rating_rate(self) -> float | None:
        """现场评价率: on-site services rated ÷ on-site services."""
        return _rate(self.rated_visits, self.visits)

    @property
    def good_rate(self) -> float | None:
        return _rate(self.good, self.ratings)

    @property
    def negative_rate(self) -> float | None:
        return _rate(self.negative, self.ratings)

    @property
    def rectification_rate(self) -> float | None:
        """差评整改率 of anonymous 差评: closed with every step on time ÷ anonymous 差评."""
        return _rate(self.rectified_on_time, self.negative)

    @property
    def is_empty(self) -> bool:
        return not (self.visits or self.ratings)


@dataclass
class RatingFigures:
    """Counts for one department (or item, channel, month …) and the rates computed from them
    (docs/ratings.md). The real-name figures count the ratings of cases, given by the applicant or by
    default; anonymous on-site ratings are in ``anonymous`` only."""

    organisation: Organisation | None
    label: str = ""
    finished_cases: int = 0
    ratings: int = 0
    good: int = 0
    negative: int = 0
    active: int = 0
    rectified_on_time: int = 0
    callbacks: int = 0
    levels: dict[int, int] = field(default_factory=dict)
    anonymous: AnonymousFigures = field(default_factory=AnonymousFigures)

    @property
    def good_rate(self) -> float | None:
        """好评率: (非常满意 + 满意 + 基本满意) ÷ real-name 有效评价数."""
        return _rate(self.good, self.ratings)

    @property
    def negative_rate(self) -> float | None:
        """差评率: (不满意 + 非常不满意) ÷ real-name 有效评价数."""
        return _rate(self.negative, self.ratings)

    @property
    def active_rate(self) -> float | None:
        """主动评价率: cases rated by the person (not by default) ÷ cases finished in the period."""
        return _rate(self.active, self.finished_cases)

    @property
    def rectification_rate(self) -> float | None:
        """差评整改率: real-name 差评 rectified and closed on time ÷ counted real-name 差评."""
        return _rate(self.rectified_on_time, self.negative)

    @property
    def callback_rate(self) -> float | None:
        """回访率 = 已回访实名差评 ÷ 实名差评 (domain/rules.md §1.5)."""
        return _rate(self.callbacks, self.negative)


def _rate(part: int, whole: int) -> float | None:
    """``part`` ÷ ``whole`` in percent, one decimal; ``None`` when there is nothing to divide by."""
    return round(part / whole * 100, 1) if whole else None


DIMENSIONS = {"department": "单位", "item": "事项", "channel": "渠道", "month": "月份"}
# Dimensions that name staff: for the bureau's workbook, not the public page.
STAFF_DIMENSIONS = {"window": "受理窗口单位", "officer": "责任人员"}
COUNTS = ("finished_cases", "ratings", "good", "negative", "active", "rectified_on_time", "callbacks")
ANONYMOUS_COUNTS = ("visits", "rated_visits", "ratings", "good", "negative", "rectified_on_time")


def rating_statistics(
    *, since: datetime, until: datetime | None = None, dimension: str = "department"
) -> tuple[RatingFigures, list[RatingFigures]]:
    """District totals and figures per ``dimension`` (``DIMENSIONS``, ``STAFF_DIMENSIONS``) for ratings
    given in [since, until). Ratings an upheld appeal or a self-check removed are not counted.

    Real-name figures (the ratings of cases, by their applicant or by default; Guangdong ratings are
    real-name, domain/rules.md §1.3): 好评率 and 差评率 over real-name ratings, 主动评价率 over cases
    finished in the period (not per channel: a case has no rating channel until rated), 差评整改率 over
    real-name 差评, and 回访率 = 已回访实名差评 ÷ 实名差评 (§1.5). Anonymous on-site ratings (window
    tablet, kiosk) are counted apart in each row's ``anonymous``: on-site services, ratings, 好评率,
    差评率 and 差评整改率 of their own. Formulas: docs/ratings.md."""
    until = until or timezone.now()
    rows: dict[Any, RatingFigures] = defaultdict(lambda: RatingFigures(organisation=None))
    ratings = Rating.objects.filter(given_at__gte=since, given_at__lt=until, excluded=False)
    rating_key = {
        "department": "organisation_id_snapshot",
        "item": "case__item_id",
        "channel": "channel",
        "month": "given_at",
        "window": "window_id_snapshot",
        "officer": "officer_id_snapshot",
    }[dimension]
    keys: dict[int, tuple[Any, bool]] = {}  # rating -> (row key, anonymous)
    for pk, key, level, is_real_name, is_default in ratings.values_list(
        "pk", rating_key, "level", "is_real_name", "is_default"
    ):
        key = _month(key) if dimension == "month" else key
        anonymous = not is_real_name and not is_default
        keys[pk] = (key, anonymous)
        row = rows[key]
        counts: RatingFigures | AnonymousFigures = row.anonymous if anonymous else row
        counts.ratings += 1
        counts.good += level not in NEGATIVE_LEVELS
        counts.negative += level in NEGATIVE_LEVELS
        if not anonymous:
            row.levels[level] = row.levels.get(level, 0) + 1
    for rating_id, step, on_time, callback_level in Rectification.objects.filter(rating__in=ratings).values_list(
        "rating_id", "step", "on_time", "callback_level"
    ):
        key, anonymous = keys[rating_id]
        row = rows[key]
        if anonymous:
            row.anonymous.rectified_on_time += step == Step.CLOSED and on_time
        else:
            row.rectified_on_time += step == Step.CLOSED and on_time
            row.callbacks += callback_level is not None
    if dimension not in ("channel", "officer"):
        finished = Case.objects.filter(status__in=RATABLE).filter(
            Q(closed_at__gte=since, closed_at__lt=until)
            | Q(closed_at__isnull=True, delivered_at__gte=since, delivered_at__lt=until)
        )
        case_key = {
            "department": "organisation_id",
            "item": "item_id",
            "month": "closed_at",
            "window": "intake_organisation_id",
        }[dimension]
        for key, delivered_at, rated, is_default, excluded in finished.values_list(
            case_key, "delivered_at", "rating__id", "rating__is_default", "rating__excluded"
        ):
            row = rows[_month(key or delivered_at) if dimension == "month" else key]
            row.finished_cases += 1
            # 主动评价率 counts, among the services finished in the period, those rated by the person.
            row.active += bool(rated) and not is_default and not excluded
    if dimension not in ("channel", "item"):
        # On-site services (一次一评): the denominator of the on-site rating rate, apart from cases.
        visits = Visit.objects.filter(served_at__gte=since, served_at__lt=until)
        visit_key = {
            "department": "organisation_id",
            "month": "served_at",
            "window": "organisation_id",
            "officer": "officer_id",
        }[dimension]
        for key, rated, excluded in visits.values_list(visit_key, "rating__id", "rating__excluded"):
            row = rows[_month(key) if dimension == "month" else key]
            row.anonymous.visits += 1
            row.anonymous.rated_visits += bool(rated) and not excluded
    labels = _labels(dimension, list(rows))
    organisations = Organisation.objects.in_bulk(list(rows)) if dimension == "department" else {}
    total = RatingFigures(organisation=None, label="全区")
    result = []
    for key, row in rows.items():
        row.label = labels.get(key, str(key))
        row.organisation = organisations.get(key)
        for name in COUNTS:
            setattr(total, name, getattr(total, name) + getattr(row, name))
        for name in ANONYMOUS_COUNTS:
            setattr(total.anonymous, name, getattr(total.anonymous, name) + getattr(row.anonymous, name))
        result.append(row)
    if dimension == "department":
        result.sort(key=lambda row: (row.organisation.sort_order if row.organisation else 0, row.label))
    else:
        result.sort(key=lambda row: row.label)
    if dimension == "channel":
        total.finished_cases = 0
    return total, result


def _month(instant: datetime | None) -> str:
    return timezone.localtime(instant).strftime("%Y-%m") if instant else ""


def _labels(dimension: str, keys: list[Any]) -> dict[Any, str]:
    if dimension in ("department", "window"):
        labels = {pk: organisation.name for pk, organisation in Organisation.objects.in_bulk(keys).items()}
        return {**labels, None: "未记录"}
    if dimension == "item":
        from yuexiu.catalog.models import ServiceItem

        return {
            **dict(ServiceItem.objects.filter(pk__in=keys).values_list("pk", "name")),
            None: "现场服务（不对应办件）",
        }
    if dimension == "officer":
        return {**{user.pk: user.display_name for user in User.objects.filter(pk__in=keys)}, None: "未记录"}
    if dimension == "channel":
        return {key: RatingChannel(key).label for key in keys if key in RatingChannel.values}
    return {key: key for key in keys}


WORKBOOK_HEADER = [
    "名称",
    "办结件",
    "实名评价数",
    "好评率(%)",
    "差评率(%)",
    "主动评价率(%)",
    "差评整改率(%)",
    "回访率(%)",
    "现场服务",
    "现场匿名评价数",
    "现场评价率(%)",
    "匿名好评率(%)",
    "匿名差评率(%)",
    "匿名差评整改率(%)",
]


def statistics_workbook(*, since: datetime, until: datetime | None = None) -> bytes:
    """The statistics as an Excel workbook: one sheet per dimension, rates in percent; the real-name
    figures first, then the anonymous on-site ratings, counted apart (``WORKBOOK_HEADER``). Written by
    ``core.tabular`` (names of officers, items and departments are formula-guarded text)."""
    from yuexiu.core import tabular

    sheets = []
    for dimension, title in {**DIMENSIONS, **STAFF_DIMENSIONS}.items():
        total, rows = rating_statistics(since=since, until=until, dimension=dimension)
        body = [
            [
                row.label,
                row.finished_cases,
                row.ratings,
                row.good_rate,
                row.negative_rate,
                row.active_rate,
                row.rectification_rate,
                row.callback_rate,
                row.anonymous.visits,
                row.anonymous.ratings,
                row.anonymous.rating_rate,
                row.anonymous.good_rate,
                row.anonymous.negative_rate,
                row.anonymous.rectification_rate,
            ]
            for row in [*rows, total]
        ]
        sheets.append((f"按{title}", WORKBOOK_HEADER, body))
    return tabular.write_xlsx_sheets(sheets)


# ---- the 差评 loop: verify → classify → rectify → reply → callback → closed -------------------------


def _step_due(step: str, start: datetime) -> datetime | None:
    """The deadline of ``step`` begun at ``start``: 24:00 of the N-th working day after its date, N from
    the row of ``ratings.rectification_step_days`` in force that day (the platform's own default,
    confidence U: Guangdong's deadlines were not found). ``None`` for a step without a deadline, or a
    day no row covers."""
    try:
        days = rules.get_rule_value("ratings.rectification_step_days", local_date(start)).get(step)
    except NotFound:
        return None
    if days is None:
        return None
    return end_of_local_day(get_calendar().add_working_days(local_date(start), int(days)))


def _responsible_officer(case: Case) -> User | None:
    """谁办理、谁负责: the officer who decided the case, else who accepted it."""
    for actions in (("approved", "refused", "declined"), ("accepted",)):
        event = case.events.filter(action__in=actions).exclude(actor=None).order_by("-occurred_at").first()
        if event is not None:
            return event.actor
    return None


def open_rectification(rating: Rating) -> Rectification:
    """A 差评 opens one rectification order for the case's department and officer (first step: verify)."""
    now = timezone.now()
    officer = _responsible_officer(rating.case) if rating.case_id else rating.visit.officer  # type: ignore[union-attr]
    return Rectification.objects.create(
        rating=rating,
        organisation_id=rating.organisation_id_snapshot,
        officer=officer,
        step=Step.VERIFY,
        step_due_at=_step_due(Step.VERIFY, now),
        opened_at=now,
    )


def can_handle_rectification(user: User, rectification: Rectification) -> bool:
    """The rated unit's own staff handle its 差评 from verification to the reply (not the district-wide
    overseers); the callback is someone else's (``can_make_callback``)."""
    return rectification.organisation_id in own_organisation_ids(user)


# The callback (回访) asks the rater whether the rectification satisfied them, so it is made by someone
# other than the rated unit: the bureau's 12345 hotline, which routes 差评 work orders in Guangdong
# practice (Shenzhen, domain/rules.md §1.3), or a supervisor, as the supervising department makes the
# second return visit in Ruzhou's "123" rule (§1.4). Never the rated unit's staff or its officer.
CALLBACK_ROLES: tuple[str, ...] = (Role.HOTLINE_OPERATOR, Role.SUPERVISOR)
CALLBACK_REFUSED = (
    "回访须由被评价单位以外的人员进行：被评价单位的工作人员不能回访本单位的差评，"
    "请由区政务服务数据管理局的 12345 热线话务员或监督人员回访。"
)
# The bureau runs the 好差评 system and its hotline (organisations.csv): an overdue callback is its own.
CALLBACK_ORGANISATION_CODE = CENTRE_CODE


def makes_callbacks(user: User) -> bool:
    """Whether ``user`` holds a role that makes 差评 callbacks (``CALLBACK_ROLES``)."""
    return has_role(user, *CALLBACK_ROLES)


def can_make_callback(
    user: User, rectification: Rectification, own: set[int] | None = None, *, is_caller: bool | None = None
) -> bool:
    """Whether ``user`` may record the callback of ``rectification``: a callback role, not staff of the
    rated unit (``own``: the user's own organisation ids) and not its responsible officer. Lists pass
    ``own`` and ``is_caller`` (``makes_callbacks(user)``) computed once."""
    if not (makes_callbacks(user) if is_caller is None else is_caller):
        return False
    own = own_organisation_ids(user) if own is None else own
    return rectification.organisation_id not in own and rectification.officer_id != user.pk


@transaction.atomic
def advance_rectification(
    *,
    rectification: Rectification,
    actor: User,
    note: str,
    classification: str = "",
    callback_level: int | None = None,
    expected_version: int | None = None,
) -> Rectification:
    """Record the current step and move to the next, with the next step's deadline (working days,
    ``ratings.rectification_step_days``). 分类 needs a classification; 回访 needs the rater's
    satisfaction. A step finished after its deadline makes the rectification late (差评整改率). An
    anonymous 差评 (on-site, no name) closes after 整改: there is nobody to answer or call back.

    The rated unit's staff record 核实 to 答复; the 回访 is recorded by a 12345 hotline operator or a
    supervisor from outside the rated unit (``can_make_callback``). Raises ``PermissionDeniedError``
    (in Chinese) for anyone else, ``Conflict`` for a stale page or a closed rectification."""
    locked = (
        Rectification.objects.select_for_update(of=("self",)).select_related("rating__case").get(pk=rectification.pk)
    )
    if locked.step == Step.CALLBACK:
        if locked.organisation_id in own_organisation_ids(actor) or locked.officer_id == actor.pk:
            raise PermissionDeniedError(CALLBACK_REFUSED)
        if not makes_callbacks(actor):
            raise PermissionDeniedError("回访由区政务服务数据管理局的 12345 热线话务员或监督人员进行。")
    elif not can_handle_rectification(actor, locked):
        raise PermissionDeniedError("只有责任单位可以办理该差评整改。")
    if expected_version is not None and locked.version != expected_version:
        raise Conflict("该差评整改已被他人处理，请刷新页面后再操作。", code="rectification_changed")
    if locked.step == Step.CLOSED:
        raise Conflict("该差评整改已办结。", code="invalid_transition")
    if not note.strip():
        raise DomainError(f"请填写{locked.get_step_display()}情况。", code="note_required")
    check_lengths((f"{locked.get_step_display()}情况", note, TextLimit.OPINION))
    if locked.step == Step.CLASSIFY:
        if classification not in Classification.values:
            raise DomainError("请选择处置方式：立行立改、限期整改或解释说明。", code="classification_required")
        locked.classification = classification
    if locked.step == Step.CALLBACK:
        if callback_level not in Level.values:
            raise DomainError("请记录回访时评价人的满意度。", code="callback_level_required")
        locked.callback_level = callback_level
    now = timezone.now()
    if locked.step_due_at is not None and now > locked.step_due_at:
        locked.on_time = False
    finished = locked.step
    locked.notes = {**locked.notes, finished: {"note": note.strip(), "by": actor.pk, "at": now.isoformat()}}
    locked.step = STEP_ORDER[STEP_ORDER.index(Step(finished)) + 1]
    if finished == Step.RECTIFY and locked.rating.is_anonymous:
        # An anonymous on-site 差评 names nobody to answer or call back: it closes once rectified.
        locked.step = Step.CLOSED
    if finished == Step.CALLBACK and callback_level in NEGATIVE_LEVELS:
        # The rater is still dissatisfied: rectify again; the rectification no longer counts as on time.
        locked.step = Step.RECTIFY
        locked.on_time = False
    locked.step_due_at = _step_due(locked.step, now)
    if locked.step == Step.CLOSED:
        locked.closed_at = now
    locked.version += 1
    locked.save()
    audit.record_event(
        action=f"rectification.{finished}", actor=actor, target=locked.rating.case, message=note.strip()[:500]
    )
    return locked


def escalate_overdue_rectifications(now: datetime | None = None) -> int:
    """Every rectification step past its deadline opens one supervision order (督办), once per
    rectification; retried or concurrent runs open it once (row lock and a one-to-one link)."""
    now = now or timezone.now()
    opened = 0
    for pk in (
        Rectification.objects.filter(step_due_at__lt=now, escalation__isnull=True)
        .exclude(step=Step.CLOSED)
        .values_list("pk", flat=True)
    ):
        with transaction.atomic():
            rectification = (
                Rectification.objects.select_for_update(of=("self",))
                .select_related("rating__case", "rating__visit")
                .get(pk=pk)
            )
            if rectification.escalation_id is not None:
                continue
            case = rectification.rating.case
            served = f"办件 {case.number}" if case else f"现场服务 {rectification.rating.visit.window_name}"  # type: ignore[union-attr]
            responsible = rectification.organisation_id
            if rectification.step == Step.CALLBACK:  # the callback is the bureau's, not the rated unit's
                responsible = Organisation.objects.get(code=CALLBACK_ORGANISATION_CODE).pk
            order = SupervisionOrder.objects.create(
                number=f"ZG{rectification.pk:08d}",
                case=case,
                organisation_id=responsible,
                subject=f"差评整改逾期：{served}（{rectification.get_step_display()}环节）",
                issued_at=now,
                due_at=supervision_services.order_due(now),
            )
            rectification.escalation = order
            rectification.save(update_fields=["escalation"])
            opened += 1
    return opened


# ---- appeals --------------------------------------------------------------------------------------


@transaction.atomic
def file_appeal(*, rating: Rating, actor: User, kind: str, reason: str) -> Appeal:
    """The rated unit appeals a rating as 误评 or 恶意差评, with its reason; one appeal per rating."""
    if kind not in AppealKind.values or not reason.strip():
        raise DomainError("请选择申诉类型（误评或恶意差评）并写明理由。", code="invalid_appeal")
    check_lengths(("申诉理由", reason, TextLimit.OPINION))
    if not rating.is_negative:
        raise DomainError("只能对差评提出申诉。", code="invalid_appeal")
    # The rated unit's own staff appeal; district-wide roles (supervisors, administrators) do not.
    if rating.organisation_id_snapshot not in own_organisation_ids(actor):
        raise PermissionDeniedError("只有被评价单位可以申诉。")
    try:
        with transaction.atomic():
            appeal = Appeal.objects.create(
                rating=rating, kind=kind, reason=reason.strip(), filed_by=actor, filed_at=timezone.now()
            )
    except IntegrityError:
        raise Conflict("该评价已申诉过。", code="appeal_exists") from None
    audit.record_event(action="rating.appeal_filed", actor=actor, target=rating.case, changes={"kind": kind})
    return appeal


@transaction.atomic
def decide_appeal(*, appeal: Appeal, actor: User, upheld: bool, decision: str) -> Appeal:
    """The bureau (监督人员) decides. Upheld: the rating is excluded from every rate, with the reason,
    and its rectification closes; rejected: nothing changes."""
    if not has_role(actor, Role.SUPERVISOR):
        raise PermissionDeniedError("只有监督人员可以复核申诉。")
    if not decision.strip():
        raise DomainError("请写明复核意见。", code="decision_required")
    check_lengths(("复核意见", decision, TextLimit.OPINION))
    appeal = Appeal.objects.select_for_update(of=("self",)).select_related("rating").get(pk=appeal.pk)
    if appeal.filed_by_id == actor.pk:
        raise PermissionDeniedError("申诉人不能复核自己的申诉。")
    if appeal.upheld is not None:
        raise Conflict("该申诉已复核。", code="appeal_decided")
    appeal.upheld = upheld
    appeal.decided_by = actor
    appeal.decision = decision.strip()
    appeal.decided_at = timezone.now()
    appeal.save()
    if upheld:
        rating = appeal.rating
        rating.excluded = True
        rating.excluded_reason = f"申诉成立（{appeal.get_kind_display()}）：{appeal.decision}"[:500]
        rating.save(update_fields=["excluded", "excluded_reason"])
        Rectification.objects.filter(rating=rating).exclude(step=Step.CLOSED).update(
            step=Step.CLOSED, closed_at=appeal.decided_at, step_due_at=None
        )
    audit.record_event(
        action="rating.appeal_upheld" if upheld else "rating.appeal_rejected", actor=actor, target=appeal.rating.case
    )
    return appeal


# ---- 申诉复核: the rater asks for a review of how their 差评 was handled ------------------------------

REVIEW_TOPIC = "rating_review"


def review_request_deadline(rectification: Rectification) -> datetime | None:
    """The last instant the rater may ask for a review: 24:00 at the end of ``ratings.review_request_days``
    natural days after the day of the unit's latest reply (that day not counted; the last day moved past
    a holiday, 《民法典》第二百零三条). The platform's own default, confidence U (国办发〔2019〕51号 sets up
    申诉复核 without a period). ``None`` before any reply, or on a day no rule row covers."""
    reply = rectification.notes.get(Step.REPLY)
    if not reply:
        return None
    replied_at = datetime.fromisoformat(reply["at"])
    try:
        days = int(rules.get_rule_value("ratings.review_request_days", local_date(replied_at)))
        return get_calendar().natural_deadline(replied_at, days)
    except (NotFound, CalendarError):
        return None


def review_refusal(rating: Rating, now: datetime | None = None) -> str:
    """Why the rater of ``rating`` may not ask for a review of its handling now (Chinese), or "" when
    they may: a counted, real-name 差评 whose unit has replied (the rectification is at 回访 or closed),
    within ``review_request_deadline``, with no review open, and no review already maintained (after a
    重新整改 the rater may ask again once the unit has replied anew)."""
    now = now or timezone.now()
    rectification = getattr(rating, "rectification", None)
    if rectification is None or rating.is_anonymous or rating.case_id is None:
        return "只有实名差评可以申请复核处理情况。"
    if rating.excluded:
        return "该差评已不计入统计（经复核认定为误评、恶意差评或经自查核实），不能申请复核处理情况。"
    reviews = list(rectification.reviews.order_by("requested_at", "id"))
    if any(not review.outcome for review in reviews):
        return "您的复核申请正在办理中。"
    if any(review.outcome == ReviewOutcome.MAINTAINED for review in reviews):
        return "复核已维持原处理，不再受理复核申请；如仍有意见，可拨打 12345 热线反映。"
    reply = rectification.notes.get(Step.REPLY)
    replied_again = reply and (not reviews or datetime.fromisoformat(reply["at"]) > reviews[-1].decided_at)
    if rectification.step not in (Step.CALLBACK, Step.CLOSED) or not replied_again:
        return "办理单位答复后才能申请复核处理情况。"
    deadline = review_request_deadline(rectification)
    if deadline is not None and now > deadline:
        return f"申请复核的期限已过（办理单位答复后 {_review_days('ratings.review_request_days', now)} 个自然日内）。"
    return ""


def _review_days(key: str, on: datetime) -> str:
    try:
        return str(rules.get_rule_value(key, local_date(on)))
    except NotFound:
        return "规定"


@transaction.atomic
def request_handling_review(
    *, rating: Rating, reason: str, channel: str, requester: User | None = None
) -> HandlingReview:
    """The rater asks for a review of how their 差评 was handled (申诉复核, 国办发〔2019〕51号), with the
    reason. ``channel`` is ``portal`` (``requester`` is the signed-in rater) or ``link`` (the rating link
    of the result notice or the SMS: ``requester`` is ``None`` and the case's applicant, the rater,
    asks). The review is due within ``ratings.review_decision_days`` working days (24:00 of the last).

    Raises ``PermissionDeniedError`` when the requester is not the rater, ``Conflict`` when a review
    may not be asked now (``review_refusal``: before the reply, after the period, one open, one
    maintained), ``DomainError`` without a reason or with one too long."""
    if channel not in ReviewChannel.values:
        raise DomainError("该申请渠道暂未开通。", code="invalid_review")
    if not reason.strip():
        raise DomainError("请写明申请复核的理由。", code="reason_required", details={"field": "reason"})
    check_lengths(("复核理由", reason, TextLimit.OPINION))
    if rating.rater_id is None or (
        channel == ReviewChannel.PORTAL and getattr(requester, "pk", None) != rating.rater_id
    ):
        raise PermissionDeniedError("只有评价人本人可以申请复核差评的处理情况。")
    rectification = (
        Rectification.objects.select_for_update(of=("self",))
        .select_related("rating__case")
        .filter(rating=rating)
        .first()
    )
    if rectification is None:
        raise Conflict("只有实名差评可以申请复核处理情况。", code="review_refused")
    rating = rectification.rating  # fresh, locked with its rectification
    now = timezone.now()
    if refusal := review_refusal(rating, now):
        raise Conflict(refusal, code="review_refused")
    try:
        days = int(rules.get_rule_value("ratings.review_decision_days", local_date(now)))
        due_at: datetime | None = end_of_local_day(get_calendar().add_working_days(local_date(now), days))
    except (NotFound, CalendarError):
        due_at = None
    try:
        with transaction.atomic():
            review = HandlingReview.objects.create(
                rectification=rectification,
                requested_by_id=rating.rater_id,
                channel=channel,
                reason=reason.strip(),
                requested_at=now,
                due_at=due_at,
            )
    except IntegrityError:
        raise Conflict("您的复核申请正在办理中。", code="review_refused") from None
    audit.record_event(
        action="rating.review_requested",
        actor=requester,
        target=rating.case,
        changes={"channel": channel, "due_at": due_at.isoformat() if due_at else None},
        message=reason.strip()[:500],
    )
    return review


def can_decide_review(
    user: User, review: HandlingReview, own: set[int] | None = None, *, is_supervisor: bool | None = None
) -> bool:
    """A supervisor of the bureau from outside the rated unit, who is not its responsible officer and
    recorded no step of this 差评's handling (nobody reviews their own work). Lists pass ``own`` (the
    user's organisation ids) and ``is_supervisor`` computed once."""
    if not (has_role(user, Role.SUPERVISOR) if is_supervisor is None else is_supervisor):
        return False
    rectification = review.rectification
    own = own_organisation_ids(user) if own is None else own
    handled_by = {entry.get("by") for entry in rectification.notes.values() if isinstance(entry, dict)}
    return (
        rectification.organisation_id not in own and rectification.officer_id != user.pk and user.pk not in handled_by
    )


@transaction.atomic
def decide_handling_review(*, review: HandlingReview, actor: User, outcome: str, decision: str) -> HandlingReview:
    """A supervisor decides the rater's review (``can_decide_review``): ``maintained`` (维持原处理) closes
    the review; ``redo`` (重新整改) sends the rectification back to 整改 with a new deadline, and it no
    longer counts as on time nor as called back until the new 回访. The rater is told in the outbox.

    Raises ``PermissionDeniedError`` for anyone else, ``Conflict`` when already decided or the rating no
    longer counts, ``DomainError`` without a decision or with a bad outcome."""
    if outcome not in ReviewOutcome.values:
        raise DomainError("请选择复核结论：维持原处理或重新整改。", code="invalid_review")
    if not decision.strip():
        raise DomainError("请写明复核意见。", code="decision_required")
    check_lengths(("复核意见", decision, TextLimit.OPINION))
    review = HandlingReview.objects.select_for_update(of=("self",)).select_related("requested_by").get(pk=review.pk)
    rectification = (
        Rectification.objects.select_for_update(of=("self",))
        .select_related("rating__case")
        .get(pk=review.rectification_id)
    )
    review.rectification = rectification
    if not has_role(actor, Role.SUPERVISOR):
        raise PermissionDeniedError("只有监督人员可以复核差评的处理情况。")
    if not can_decide_review(actor, review):
        raise PermissionDeniedError("被评价单位的工作人员和经办过该差评的人员不能复核其处理情况。")
    if review.outcome:
        raise Conflict("该复核申请已作出结论。", code="review_decided")
    rating = rectification.rating
    if outcome == ReviewOutcome.REDO and rating.excluded:
        raise Conflict("该差评已不计入统计，不能要求重新整改。", code="review_decided")
    now = timezone.now()
    review.outcome = outcome
    review.decision = decision.strip()
    review.decided_by = actor
    review.decided_at = now
    review.save(update_fields=["outcome", "decision", "decided_by", "decided_at"])
    if outcome == ReviewOutcome.REDO:
        rectification.step = Step.RECTIFY
        rectification.step_due_at = _step_due(Step.RECTIFY, now)
        rectification.closed_at = None
        rectification.on_time = False
        rectification.callback_level = None
        rectification.version += 1
        rectification.save(update_fields=["step", "step_due_at", "closed_at", "on_time", "callback_level", "version"])
    audit.record_event(
        action="rating.review_maintained" if outcome == ReviewOutcome.MAINTAINED else "rating.review_redone",
        actor=actor,
        target=rating.case,
        message=review.decision[:500],
    )
    case = rating.case
    verdict = "维持原处理" if outcome == ReviewOutcome.MAINTAINED else "要求办理单位重新整改"
    OutboxMessage.objects.get_or_create(
        dedupe_key=f"{REVIEW_TOPIC}:{review.pk}",
        defaults={
            "recipient": review.requested_by,
            "phone": case.applicant_phone if case else "",
            "topic": REVIEW_TOPIC,
            "subject": f"办件{case.number if case else ''}差评处理复核结果",
            "body": f"【越秀政务】您对办件{case.number if case else ''}差评处理的复核申请已办结：{verdict}。"
            f"复核意见：{review.decision}"[:500],
            "link": f"/cases/{case.number}/" if case else "",
        },
    )
    return review


# ---- 自查: sampling good ratings for verification calls -----------------------------------------------


def _require_supervisor(actor: User) -> None:
    if not has_role(actor, Role.SUPERVISOR):
        raise PermissionDeniedError("只有监督人员可以开展评价自查。")


@transaction.atomic
def sample_for_self_check(*, actor: User, since: datetime, count: int, seed: int | None = None) -> list[SelfCheck]:
    """Draw ``count`` (1–200) good, non-default ratings given since ``since`` that were never sampled,
    for verification calls (自查). ``seed`` makes the draw repeatable (tests)."""
    _require_supervisor(actor)
    if not 1 <= count <= 200:
        raise DomainError("每次抽取 1 到 200 条。", code="invalid_sample")
    candidates = list(
        Rating.objects.filter(
            given_at__gte=since, is_default=False, excluded=False, self_check__isnull=True, case__isnull=False
        )
        .exclude(level__in=NEGATIVE_LEVELS)
        .values_list("pk", flat=True)
        .order_by("pk")
    )
    chosen = random.Random(seed).sample(candidates, min(count, len(candidates)))
    now = timezone.now()
    checks = [SelfCheck(rating_id=pk, sampled_at=now, sampled_by=actor) for pk in sorted(chosen)]
    SelfCheck.objects.bulk_create(checks, ignore_conflicts=True)
    audit.record_event(action="rating.self_check_sampled", actor=actor, changes={"count": len(checks)})
    return list(SelfCheck.objects.filter(rating_id__in=chosen).select_related("rating__case"))


@transaction.atomic
def record_self_check(*, check: SelfCheck, actor: User, outcome: str, note: str = "") -> SelfCheck:
    """Record the call's outcome. An induced or forged rating is excluded from the rates, with why."""
    _require_supervisor(actor)
    if outcome not in CheckOutcome.values:
        raise DomainError("请选择核查结果。", code="invalid_outcome")
    check_lengths(("说明", note, TextLimit.COMMENT))
    check = SelfCheck.objects.select_for_update(of=("self",)).select_related("rating").get(pk=check.pk)
    if check.outcome:
        raise Conflict("该评价已核查。", code="already_checked")
    check.outcome = outcome
    check.note = note.strip()
    check.checked_by = actor
    check.checked_at = timezone.now()
    check.save()
    if outcome in (CheckOutcome.INDUCED, CheckOutcome.FORGED):
        rating = check.rating
        rating.excluded = True
        rating.excluded_reason = f"自查认定{check.get_outcome_display()}：{check.note}"[:500]
        rating.save(update_fields=["excluded", "excluded_reason"])
    audit.record_event(
        action="rating.self_checked", actor=actor, target=check.rating.case, changes={"outcome": outcome}
    )
    return check


# ---- channels: SMS link and 12345 entries -------------------------------------------------------------


def queue_rating_links() -> int:
    """Queue the SMS rating link for every finished, unrated case with a phone and no message yet
    (the embedded sender writes to the platform's outbox, ``core.OutboxMessage``; a gateway sender
    delivers from there)."""
    from django.conf import settings
    from django.urls import reverse

    queued = 0
    pending = Case.objects.filter(status__in=RATABLE, rating__isnull=True).exclude(applicant_phone="")
    keys = OutboxMessage.objects.filter(topic=RATING_SMS_TOPIC).values_list("dedupe_key", flat=True)
    queued_cases = {int(key.rsplit(":", 1)[1]) for key in keys}
    for case in pending.exclude(pk__in=queued_cases):
        link = settings.PUBLIC_BASE_URL.rstrip("/") + reverse("ratings:rate", args=[rating_token(case, via="sms")])
        queued += queue_rating_sms(case, link)
    return queued


def queue_rating_sms(case: Case, link: str) -> bool:
    """Put the rating link for a finished case in the SMS outbox (one per case). Returns whether a
    message was queued (no phone, or already queued: no)."""
    if not case.applicant_phone or case.status not in RATABLE:
        return False
    _, created = OutboxMessage.objects.get_or_create(
        dedupe_key=f"{RATING_SMS_TOPIC}:{case.pk}",
        defaults={
            "recipient": case.applicant,
            "phone": case.applicant_phone,
            "topic": RATING_SMS_TOPIC,
            "subject": f"办件{case.number}评价",
            "body": f"【越秀政务】您的办件{case.number}已办结，请评价本次服务：{link}"[:500],
            "link": link[:300],
        },
    )
    return created


RATING_SMS_TOPIC = "rating_sms"


@transaction.atomic
def enter_hotline_rating(*, case: Case, actor: User, level: int, comment: str = "") -> Rating:
    """A 12345 operator types in the rating a caller gave by phone for their case. The operator may not
    be someone who handled the case (nobody rates their own service)."""
    return rate_case(case=case, level=level, channel=RatingChannel.HOTLINE, entered_by=actor, comment=comment)


# ---- 一次一评: on-site visits rated at the window tablet or the kiosk ------------------------------------


@transaction.atomic
def record_visit(*, actor: User, window_name: str) -> Visit:
    """The window officer ends an on-site service: the visit is recorded with a 6-digit code (printed
    on the ticket for the kiosk) and offered on the window's tablet for rating."""
    if not has_role(actor, Role.WINDOW_OFFICER):
        raise PermissionDeniedError("只有窗口工作人员可以登记现场服务。")
    if not window_name.strip():
        raise DomainError("请填写窗口名称。", code="invalid_visit")
    check_lengths(("窗口名称", window_name, TextLimit.SHORT))
    rng = random.SystemRandom()
    for _ in range(20):
        code = f"{rng.randint(0, 999999):06d}"
        if not Visit.objects.filter(code=code).exists():
            return Visit.objects.create(
                code=code,
                organisation=actor.organisation,
                window_name=window_name.strip(),
                officer=actor,
                served_at=timezone.now(),
            )
    raise Conflict("评价码生成失败，请重试。", code="code_exhausted")


def visit_code_expires_at(visit: Visit) -> datetime:
    """When a visit's code stops working: 24:00 (Asia/Shanghai) of the day the visit was recorded, so
    a code read off a ticket cannot be tried later. The platform's own rule (issue 13), confidence U:
    no source sets how long an on-site rating stays open."""
    return end_of_local_day(local_date(visit.served_at))


def _open_visits(now: datetime | None = None) -> Any:
    """Visits not rated whose code is still valid: recorded today (Asia/Shanghai)."""
    yesterday_ends = end_of_local_day(local_date(now or timezone.now()) - timedelta(days=1))
    return Visit.objects.filter(rating__isnull=True, served_at__gt=yesterday_ends)


def latest_unrated_visit(organisation: Organisation, window_name: str) -> Visit | None:
    """What the window's tablet offers: the latest visit at that window in the last hour, not rated,
    recorded today."""
    return (
        _open_visits()
        .filter(
            organisation=organisation,
            window_name=window_name,
            served_at__gte=timezone.now() - timedelta(hours=1),
        )
        .order_by("-served_at")
        .first()
    )


# Wrong codes at a kiosk, counted in the audit log (core/throttle.py): per device and per address.
# The platform's own limits (issue 13). A code is 6 digits and valid only on its day, so a device
# allowed 10 wrong codes per 10 minutes hits one of a few hundred open visits about once a week.
CODE_REFUSED_ACTIONS = ("rating.code_refused",)
CODE_FAILURES_PER_DEVICE = 10
CODE_FAILURE_DEVICE_WINDOW = timedelta(minutes=10)
CODE_FAILURES_PER_ADDRESS = 30
CODE_FAILURE_ADDRESS_WINDOW = timedelta(hours=1)
CODE_THROTTLED_MESSAGE = "评价码输入错误次数过多，请{wait}后再试，或请窗口工作人员协助。"


def visit_for_code(*, device: RatingDevice, code: str) -> Visit:
    """The visit a kiosk's typed code opens: not rated and recorded today (``visit_code_expires_at``).

    Each wrong code is an audit event about the device (``rating.code_refused``, with the address);
    after ``CODE_FAILURES_PER_DEVICE`` in ``CODE_FAILURE_DEVICE_WINDOW`` on the device, or
    ``CODE_FAILURES_PER_ADDRESS`` in ``CODE_FAILURE_ADDRESS_WINDOW`` from the address, every code is
    refused until the window has passed. Raises ``DomainError`` (``too_many_requests``) when
    throttled, ``NotFound`` for a wrong, expired or already rated code."""
    wait = ""
    if throttle.address_over_limit(
        CODE_REFUSED_ACTIONS, limit=CODE_FAILURES_PER_ADDRESS, window=CODE_FAILURE_ADDRESS_WINDOW
    ):
        wait = " 1 小时"
    elif throttle.object_over_limit(
        device, CODE_REFUSED_ACTIONS, limit=CODE_FAILURES_PER_DEVICE, window=CODE_FAILURE_DEVICE_WINDOW
    ):
        wait = " 10 分钟"
    if wait:
        audit.record_event(action="rating.code_throttled", target=device, outcome="denied", message="评价码尝试过多")
        raise DomainError(CODE_THROTTLED_MESSAGE.format(wait=wait), code="too_many_requests")
    visit = _open_visits().filter(code=code).first() if code.isdecimal() else None
    if visit is None:
        audit.record_event(action="rating.code_refused", target=device, outcome="failed", message="评价码无效")
        raise NotFound("评价码无效或已过期（当日有效），或该次服务已评价。")
    return visit


# ---- devices: window tablets and kiosks bound by staff --------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def can_manage_devices(user: User, organisation: Organisation | None = None) -> bool:
    """Window officers bind and revoke their own organisation's tablets and kiosks (for the centre:
    the centre's window staff)."""
    if not has_role(user, Role.WINDOW_OFFICER) or user.organisation_id is None:
        return False
    return organisation is None or organisation.pk in own_organisation_ids(user)


@transaction.atomic
def bind_device(
    *, actor: User, kind: str, window_name: str = "", replaces: RatingDevice | None = None
) -> tuple[RatingDevice, str]:
    """Bind a device (the browser the officer is using) as a tablet of ``window_name`` or as a kiosk of
    the officer's organisation. Returns the device and its token (``secrets.token_urlsafe(32)``), which
    exists only in the device's cookie; the table keeps its SHA-256. ``replaces`` (the device this
    browser was bound as before) is revoked. Audited (``rating.device_bound``).

    Raises ``PermissionDeniedError`` for anyone but a window officer, ``DomainError`` for an unknown
    kind or a tablet without its window."""
    if not can_manage_devices(actor):
        raise PermissionDeniedError("只有窗口工作人员可以绑定评价设备。")
    if kind not in DeviceKind.values:
        raise DomainError("请选择设备类型：窗口评价器或自助终端。", code="invalid_device")
    window_name = window_name.strip() if kind == DeviceKind.TABLET else ""
    if kind == DeviceKind.TABLET and not window_name:
        raise DomainError("请填写窗口评价器所在的窗口名称。", code="invalid_device", details={"field": "window_name"})
    check_lengths(("窗口名称", window_name, TextLimit.SHORT))
    if replaces is not None and replaces.revoked_at is None and can_manage_devices(actor, replaces.organisation):
        revoke_device(actor=actor, device=replaces)
    token = secrets.token_urlsafe(32)
    device = RatingDevice.objects.create(
        kind=kind,
        organisation=actor.organisation,
        window_name=window_name,
        token_hash=_token_hash(token),
        issued_by=actor,
        issued_at=timezone.now(),
    )
    audit.record_event(
        action="rating.device_bound", actor=actor, target=device, changes={"kind": kind, "window": window_name}
    )
    return device, token


@transaction.atomic
def revoke_device(*, actor: User, device: RatingDevice) -> RatingDevice:
    """Revoke a bound device: its token is refused from now on. Audited (``rating.device_revoked``).
    Raises ``PermissionDeniedError`` outside the device's organisation, ``Conflict`` if revoked."""
    if not can_manage_devices(actor, device.organisation):
        raise PermissionDeniedError("只能解绑本单位的评价设备。")
    locked = RatingDevice.objects.select_for_update().get(pk=device.pk)
    if locked.revoked_at is not None:
        raise Conflict("该设备已解绑。", code="device_revoked")
    locked.revoked_at = timezone.now()
    locked.revoked_by = actor
    locked.save(update_fields=["revoked_at", "revoked_by"])
    audit.record_event(action="rating.device_revoked", actor=actor, target=locked)
    return locked


def device_from_token(token: str | None, kind: str | None = None) -> RatingDevice | None:
    """The bound, unrevoked device whose cookie holds ``token`` (of ``kind`` when given), or ``None``."""
    if not token or len(token) > 100:
        return None
    device = (
        RatingDevice.objects.select_related("organisation")
        .filter(token_hash=_token_hash(token), revoked_at__isnull=True)
        .first()
    )
    if device is None or (kind is not None and device.kind != kind):
        return None
    return device


@transaction.atomic
def rate_visit(
    *, visit: Visit, level: int, channel: str, answers: dict[str, Any] | None = None, comment: str = ""
) -> Rating:
    """The one rating of an on-site visit (一次一评), from the window tablet or the kiosk. Anonymous to
    the officer; a 差评 opens the same rectification loop for the window's unit and officer."""
    if level not in Level.values:
        raise DomainError(
            "请选择评价等级：非常满意、满意、基本满意、不满意或非常不满意。",
            code="invalid_rating",
            details={"field": "level"},
        )
    if channel not in (RatingChannel.WINDOW, RatingChannel.KIOSK):
        raise DomainError("该评价渠道暂未开通。", code="invalid_rating")
    if timezone.now() > visit_code_expires_at(visit):
        raise Conflict("该次服务的评价已截止：现场服务当日可评价。", code="visit_expired")
    question_set = (
        QuestionSet.objects.filter(kind="offline", effective_from__lte=timezone.localdate())
        .order_by("-version")
        .first()
    )
    if question_set is None:
        raise NotFound("评价指标集尚未配置。")
    answers = _checked_answers(question_set, level, answers, comment)
    try:
        with transaction.atomic():
            rating = Rating.objects.create(
                visit=visit,
                level=level,
                answers=answers,
                question_set=question_set,
                channel=channel,
                is_real_name=False,
                comment=comment.strip(),
                given_at=timezone.now(),
                organisation_id_snapshot=visit.organisation_id,
                window_id_snapshot=visit.organisation_id,
                officer_id_snapshot=visit.officer_id,
            )
    except IntegrityError:
        raise Conflict("本次服务已评价，每次服务只能评价一次。", code="already_rated") from None
    audit.record_event(action="rating.visit_rated", changes={"level": level, "channel": channel, "visit": visit.code})
    if rating.is_negative:
        open_rectification(rating)
    return rating
