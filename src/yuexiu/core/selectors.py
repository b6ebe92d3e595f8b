"""Reads of the core domain, scoped to what the caller may see.

``visible_organisation_ids`` is the one place that decides which organisations' records a staff
account sees: its own organisations (where it holds a role, or its home organisation) and everything
below them, or every organisation when it holds a district-wide role (监督, 首席数据官, 廉政监督员,
指南审核). The three administrators (系统管理员, 安全管理员, 审计管理员: 三员分立) see no
organisation's business records at all, whatever else the account holds: they run the system, they
do not handle cases, ratings, supervision or policies. Every list of organisation-owned records goes
through it (``scope_to_user``, ``own_organisation_ids``), in every app.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from django.db.models import Model, Q, QuerySet

from yuexiu.core import audit_actions
from yuexiu.core.errors import NotFound, PermissionDeniedError
from yuexiu.core.models import (
    ADMINISTRATOR_ROLES,
    DISTRICT_WIDE_ROLES,
    AccountType,
    AuditEvent,
    Organisation,
    Role,
    User,
)

M = TypeVar("M", bound=Model)


def visible_organisation_ids(user: User) -> set[int] | None:
    """Ids of the organisations whose records ``user`` may see; ``None`` means all of them.

    Citizens and enterprise users see no organisation's internal records (empty set), nor does an
    account holding an administrator role (``is_administrator``).
    """
    if not user.is_authenticated or user.account_type != AccountType.STAFF:
        return set()
    assignments = list(user.role_assignments.all())
    if any(assignment.role in ADMINISTRATOR_ROLES for assignment in assignments):
        return set()
    if any(assignment.role in DISTRICT_WIDE_ROLES for assignment in assignments):
        return None
    roots = {assignment.organisation_id for assignment in assignments}
    if user.organisation_id is not None:
        roots.add(user.organisation_id)
    return with_descendants(roots)


def is_administrator(user: User) -> bool:
    """Whether ``user`` holds one of the three administrator roles (三员分立: they see no case,
    rating, supervision or policy record, and no applicant's personal data)."""
    return bool(user.is_authenticated) and any(
        assignment.role in ADMINISTRATOR_ROLES for assignment in user.role_assignments.all()
    )


def with_descendants(roots: set[int]) -> set[int]:
    """The ``roots`` and every organisation below them (one query per tree level: 3 at most)."""
    result = set(roots)
    frontier = set(roots)
    while frontier:
        children = set(Organisation.objects.filter(parent_id__in=frontier).values_list("id", flat=True))
        frontier = children - result
        result |= frontier
    return result


def own_organisation_ids(user: User) -> set[int]:
    """The organisations whose work ``user`` answers for: its own and those below. Empty for accounts
    with a district-wide role (they oversee, they do not answer) and for non-staff accounts."""
    visible = visible_organisation_ids(user)
    return visible if visible is not None else set()


def scope_to_user(queryset: QuerySet[M], user: User, organisation_field: str = "organisation") -> QuerySet[M]:
    """Narrow ``queryset`` to the records of organisations ``user`` may see (see the module docstring)."""
    visible = visible_organisation_ids(user)
    if visible is None:
        return queryset
    return queryset.filter(**{f"{organisation_field}__in": visible})


def list_organisations(*, kind: str = "", parent_code: str = "", query: str = "") -> QuerySet[Organisation]:
    """Active organisations, public to everyone, ordered by level and official order."""
    organisations = Organisation.objects.filter(is_active=True).select_related("parent")
    if kind:
        organisations = organisations.filter(kind=kind)
    if parent_code:
        organisations = organisations.filter(parent__code=parent_code)
    if query:
        organisations = organisations.filter(Q(name__contains=query) | Q(short_name__contains=query))
    return organisations.order_by("kind", "sort_order", "code")


def get_organisation(code: str) -> Organisation:
    """The active organisation with ``code``. Raises ``NotFound``."""
    organisation = Organisation.objects.filter(code=code, is_active=True).select_related("parent").first()
    if organisation is None:
        raise NotFound(f"未找到编码为 {code} 的组织机构。")
    return organisation


def list_staff(*, viewer: User) -> QuerySet[User]:
    """Staff accounts of the organisations ``viewer`` may see, with their roles prefetched. The
    administrators see every staff account (names, units and roles, no personal numbers): managing
    accounts and their roles is their work."""
    staff = User.objects.filter(account_type=AccountType.STAFF, is_active=True)
    return (
        (staff if is_administrator(viewer) else scope_to_user(staff, viewer))
        .select_related("organisation")
        .prefetch_related("role_assignments__organisation")
        .order_by("organisation__kind", "organisation__sort_order", "username")
    )


def access_audit_log(user: User) -> QuerySet[AuditEvent]:
    """The audit log, for 审计管理员 only. Others get ``PermissionDeniedError``."""
    if not any(assignment.role == Role.AUDIT_ADMIN for assignment in user.role_assignments.all()):
        raise PermissionDeniedError("只有审计管理员可以查看审计日志。")
    return AuditEvent.objects.all()


def search_audit_events(
    events: QuerySet[AuditEvent],
    *,
    actor: str = "",
    action: str = "",
    outcome: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    ip_address: str = "",
) -> QuerySet[AuditEvent]:
    """Filter audit events: ``actor`` (account, exact), ``action`` (a code prefix such as ``auth.``, or
    words of the events' Chinese names such as ``登录`` or ``导入节假日安排``), outcome, time range, IP."""
    if actor:
        events = events.filter(actor_username=actor)
    if action:
        events = events.filter(Q(action__startswith=action) | Q(action__in=audit_actions.matching_actions(action)))
    if outcome:
        events = events.filter(outcome=outcome)
    if since:
        events = events.filter(occurred_at__gte=since)
    if until:
        events = events.filter(occurred_at__lt=until)
    if ip_address:
        events = events.filter(ip_address=ip_address)
    return events.select_related("organisation").order_by("-occurred_at", "-id")
