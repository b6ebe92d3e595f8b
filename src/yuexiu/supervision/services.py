"""Embedded supervision (监督一点通): the sweep that fires alert rules over cases, supervision orders
(督办) and their loop, integrity supervisors' observations.

The sweep is a handful of indexed queries: cases keep the instants at which rules fire (``due_at``,
``warning_at``, ``pause_alert_at``, ``service_deadline``, recomputed on every transition by
``cases.services``), so the sweep never recomputes a clock. Each rule fires at most once per case:
``Alert`` has a unique (case, rule) constraint and alerts are inserted with ``ignore_conflicts``, so a
retried sweep or two workers sweeping at once create each alert once. A red alert opens one
supervision order (one-to-one). Thresholds are dated rule parameters (``supervision.*``, sources in
core/data/rules.yaml).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from yuexiu.cases.models import PAUSED_STATUSES, Case, CaseStatus
from yuexiu.catalog.models import ServiceItem
from yuexiu.core import audit, rules
from yuexiu.core.calendar import get_calendar
from yuexiu.core.errors import Conflict, DomainError, PermissionDeniedError
from yuexiu.core.models import Organisation, Role, User
from yuexiu.core.selectors import own_organisation_ids
from yuexiu.core.services import has_role
from yuexiu.core.text_limits import TextLimit, check_lengths
from yuexiu.core.workdays import end_of_local_day, local_date
from yuexiu.supervision.models import Alert, AlertLevel, Observation, OrderStatus, SupervisedItem, SupervisionOrder


@dataclass(frozen=True)
class AlertRule:
    code: str
    level: str
    label: str
    cases: Callable[[QuerySet[Case], datetime], QuerySet[Case]]
    # Who answers for it: the deciding department, or the intake window (corrections are its acts).
    responsible: str = "organisation_id"


RULES: tuple[AlertRule, ...] = (
    AlertRule(
        "time_share_used",
        AlertLevel.WARNING,
        "承诺时限即将用完",
        lambda cases, now: cases.filter(status=CaseStatus.ACCEPTED, warning_at__lte=now),
    ),
    AlertRule(
        "overdue",
        AlertLevel.RED,
        "超期未办结",
        lambda cases, now: cases.filter(status=CaseStatus.ACCEPTED, due_at__lt=now),
    ),
    AlertRule(
        "repeated_correction",
        AlertLevel.WARNING,
        "多次要求补正",
        lambda cases, now: cases.filter(correction_count__gte=2),
        "intake_organisation_id",
    ),
    AlertRule(
        "correction_beyond_guide",
        AlertLevel.RED,
        "要求提交办事指南以外的材料",
        lambda cases, now: cases.filter(corrections_beyond_guide__gte=1),
        "intake_organisation_id",
    ),
    AlertRule(
        "paused_too_long",
        AlertLevel.WARNING,
        "暂停计时过久",
        lambda cases, now: cases.filter(status__in=PAUSED_STATUSES, pause_alert_at__lt=now),
    ),
    # 行政许可法 第四十四条: an approved licence is issued and served within 10 working days of the
    # decision (``Case.service_deadline``); the licensing department answers for it.
    AlertRule(
        "service_overdue",
        AlertLevel.RED,
        "准予许可后超期未送达",
        lambda cases, now: cases.filter(status=CaseStatus.APPROVED, service_deadline__lt=now),
    ),
)
RULE_LABELS = {rule.code: rule.label for rule in RULES}


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Fire every rule on the cases of supervised items; returns the alerts created per rule and the
    orders opened. Safe to retry and to run in several workers at once (see the module docstring)."""
    now = now or timezone.now()
    watched = Case.objects.filter(item__supervision__isnull=False)
    created: dict[str, int] = {}
    for rule in RULES:
        rows = list(
            rule.cases(watched, now).exclude(alerts__rule=rule.code).values_list("id", rule.responsible, "number")
        )
        alerts = [
            Alert(
                case_id=case_id,
                rule=rule.code,
                level=rule.level,
                organisation_id=organisation_id,
                message=f"办件 {number}：{rule.label}",
                fired_at=now,
            )
            for case_id, organisation_id, number in rows
        ]
        with transaction.atomic():
            Alert.objects.bulk_create(alerts, ignore_conflicts=True, batch_size=2000)
        created[rule.code] = len(alerts)
    created["orders"] = _open_orders_for_red_alerts(now)
    return created


def order_due(now: datetime) -> datetime:
    """The response deadline of an order issued ``now`` (``supervision.order_response_days`` working days)."""
    days = int(rules.get_rule_value("supervision.order_response_days"))
    return end_of_local_day(get_calendar().add_working_days(local_date(now), days))


def _open_orders_for_red_alerts(now: datetime) -> int:
    pending = list(
        Alert.objects.filter(level=AlertLevel.RED, order__isnull=True).values_list(
            "id", "case_id", "organisation_id", "message"
        )
    )
    if not pending:
        return 0
    due = order_due(now)
    orders = [
        SupervisionOrder(
            number=f"DB{alert_id:08d}",
            alert_id=alert_id,
            case_id=case_id,
            organisation_id=organisation_id,
            subject=message,
            issued_at=now,
            due_at=due,
        )
        for alert_id, case_id, organisation_id, message in pending
    ]
    with transaction.atomic():
        SupervisionOrder.objects.bulk_create(orders, ignore_conflicts=True, batch_size=2000)
    return len(orders)


# ---- supervised items --------------------------------------------------------------------------


def _require(user: User, roles: tuple[str, ...], message: str) -> None:
    if not has_role(user, *roles):
        raise PermissionDeniedError(message)


@transaction.atomic
def set_supervised(*, item: ServiceItem, supervised: bool, actor: User) -> None:
    """Put an item under supervision or take it off (监督人员)."""
    _require(actor, (Role.SUPERVISOR,), "只有监督人员可以设置重点监督事项。")
    if supervised:
        _, created = SupervisedItem.objects.get_or_create(item=item, defaults={"added_by": actor})
    else:
        created = bool(SupervisedItem.objects.filter(item=item).delete()[0])
    if created:
        audit.record_event(
            action="supervision.item_added" if supervised else "supervision.item_removed", actor=actor, target=item
        )


# ---- the order loop: respond → verify → close ----------------------------------------------------


def _locked_order(order: SupervisionOrder, expected_version: int | None) -> SupervisionOrder:
    locked = SupervisionOrder.objects.select_for_update().get(pk=order.pk)
    if expected_version is not None and locked.version != expected_version:
        raise Conflict("该督办单已被他人处理，请刷新页面后再操作。", code="order_changed")
    return locked


def can_respond(user: User, order: SupervisionOrder) -> bool:
    """Staff of the ordered department (or above it) answer its orders."""
    return order.organisation_id in own_organisation_ids(user)


@transaction.atomic
def respond_order(
    *, order: SupervisionOrder, actor: User, response: str, expected_version: int | None = None
) -> SupervisionOrder:
    """The department states what it did (整改回复, required)."""
    if not response.strip():
        raise DomainError("请填写整改情况。", code="response_required")
    check_lengths(("整改情况", response, TextLimit.REPORT))
    order = _locked_order(order, expected_version)
    if not can_respond(actor, order):
        raise PermissionDeniedError("只有被督办单位可以回复督办单。")
    if order.status != OrderStatus.ISSUED:
        raise Conflict(f"该督办单当前为“{order.get_status_display()}”，不能回复。", code="invalid_transition")
    order.status = OrderStatus.RESPONDED
    order.response = response.strip()
    order.responded_by = actor
    order.responded_at = timezone.now()
    order.version += 1
    order.save()
    audit.record_event(action="supervision.order_responded", actor=actor, target=order, message=order.response[:500])
    return order


@transaction.atomic
def verify_order(
    *, order: SupervisionOrder, actor: User, accepted: bool, note: str, expected_version: int | None = None
) -> SupervisionOrder:
    """A supervisor checks the response: accepted closes the order; otherwise it goes back to the
    department with a new response deadline (the reason is required)."""
    _require(actor, (Role.SUPERVISOR,), "只有监督人员可以核实督办回复。")
    if not accepted and not note.strip():
        raise DomainError("退回重办须说明理由。", code="reason_required")
    check_lengths(("核实意见", note, TextLimit.REPORT))
    order = _locked_order(order, expected_version)
    if order.status != OrderStatus.RESPONDED:
        raise Conflict(f"该督办单当前为“{order.get_status_display()}”，不能核实。", code="invalid_transition")
    now = timezone.now()
    order.verification = note.strip()
    order.verified_by = actor
    if accepted:
        order.status = OrderStatus.CLOSED
        order.closed_at = now
    else:
        order.status = OrderStatus.ISSUED
        order.due_at = order_due(now)
    order.version += 1
    order.save()
    audit.record_event(
        action="supervision.order_closed" if accepted else "supervision.order_sent_back", actor=actor, target=order
    )
    return order


@transaction.atomic
def file_observation(
    *, actor: User, organisation: Organisation, content: str, case: Case | None = None
) -> SupervisionOrder:
    """廉政监督员 files an observation; it opens a supervision order to the organisation."""
    _require(actor, (Role.INTEGRITY_SUPERVISOR,), "只有廉政监督员可以提出监督意见。")
    if not content.strip():
        raise DomainError("请填写监督意见。", code="content_required")
    check_lengths(("监督意见", content, TextLimit.REPORT))
    now = timezone.now()
    observation = Observation.objects.create(
        filed_by=actor, organisation=organisation, case=case, content=content.strip(), filed_at=now
    )
    order = SupervisionOrder.objects.create(
        number=f"JD{observation.pk:08d}",
        observation=observation,
        case=case,
        organisation=organisation,
        subject=f"廉政监督意见：{observation.content[:200]}",
        issued_at=now,
        due_at=order_due(now),
    )
    audit.record_event(action="supervision.observation_filed", actor=actor, target=order)
    return order
