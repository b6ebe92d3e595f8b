"""Writes of the core domain: organisations, accounts, roles, preferences, personal-data views.

Each service runs in a transaction, checks what it is asked to do, writes the audit event and
raises ``DomainError`` with a Chinese message when it refuses (changing nothing). A refusal for lack
of permission is audited where it reaches the user (the API error handler, the 403 page), after
the service's transaction has rolled back, so the record of the refusal is never lost with it.
"""

from __future__ import annotations

import csv
import math
import unicodedata
from pathlib import Path

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from yuexiu.core import audit, identity
from yuexiu.core.errors import Conflict, DomainError, NotFound, PermissionDeniedError
from yuexiu.core.models import (
    ADMINISTRATOR_ROLES,
    AccountType,
    Organisation,
    OrganisationKind,
    Role,
    RoleAssignment,
    User,
)

ORGANISATION_DATA = Path(__file__).resolve().parent / "data" / "organisations.csv"
ORGANISATION_FIELDS = ["name", "short_name", "kind", "parent_code", "sort_order", "source", "responsibilities"]


@transaction.atomic
def load_organisations(path: Path = ORGANISATION_DATA) -> dict[str, int]:
    """Create or update organisations from the CSV at ``path`` (columns: code, name, short_name, kind,
    parent_code, sort_order, source, responsibilities), matched on ``code``.

    Idempotent: a second run changes nothing and returns ``{"created": 0, "updated": 0}``.
    Raises ``DomainError`` for an unknown kind or a duplicate code; nothing is saved then.
    """
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    seen: set[str] = set()
    for line, row in enumerate(rows, start=2):
        if row["kind"] not in OrganisationKind.values:
            raise DomainError(f"{path.name} 第 {line} 行：层级“{row['kind']}”无效。", code="invalid_organisation")
        if row["code"] in seen:
            raise DomainError(f"{path.name} 第 {line} 行：编码 {row['code']} 重复。", code="invalid_organisation")
        seen.add(row["code"])
    existing = {organisation.code: organisation for organisation in Organisation.objects.all()}
    created = updated = 0
    for row in rows:
        values = {name: row.get(name, "") or "" for name in ORGANISATION_FIELDS}
        values["sort_order"] = int(values["sort_order"] or 0)
        organisation = existing.get(row["code"])
        if organisation is None:
            organisation = Organisation.objects.create(code=row["code"], **values)
            existing[organisation.code] = organisation
            created += 1
            continue
        before = audit.snapshot(organisation, ORGANISATION_FIELDS)
        for name, value in values.items():
            setattr(organisation, name, value)
        changes = audit.model_changes(organisation, before, ORGANISATION_FIELDS)
        if changes:
            organisation.save()
            audit.record_event(action="organisation.updated", target=organisation, changes=changes)
            updated += 1
    for organisation in existing.values():
        parent = existing.get(organisation.parent_code)
        if organisation.parent_id != (parent.pk if parent else None):
            organisation.parent = parent
            organisation.save(update_fields=["parent"])
    if created:
        audit.record_event(
            action="organisation.loaded", changes={"created": created, "file": path.name}, message="导入组织机构"
        )
    return {"created": created, "updated": updated}


def _check_username(username: str) -> None:
    """Letters, digits and @.+-_ only (Django's rule), unique regardless of case."""
    try:
        User.username_validator(username)
    except ValidationError as error:
        raise DomainError("用户名只能包含字母、数字和 @ . + - _ 符号，不能有空格。", code="invalid_username") from error
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict("该用户名已被注册，请换一个。", code="username_taken")


def _validated_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise DomainError("；".join(error.messages), code="weak_password") from error


@transaction.atomic
def register_citizen(*, username: str, password: str, full_name: str, id_number: str, phone: str = "") -> User:
    """Create a 自然人 account. ``id_number`` is checked (GB 11643-1999) and must be unused.

    Raises ``DomainError`` (invalid number or weak password) or ``Conflict`` (username or number taken).
    """
    try:
        normalised = identity.normalise_id_number(id_number)
        identity.validate_mobile(phone)
    except ValidationError as error:
        raise DomainError(error.messages[0], code="invalid_identity") from error
    _check_username(username)
    if User.objects.filter(id_number=normalised).exists():
        raise Conflict("该身份证号已注册账号，请直接登录或找回密码。", code="id_number_taken")
    user = User(
        username=username, full_name=full_name, id_number=normalised, phone=phone, account_type=AccountType.CITIZEN
    )
    _validated_password(password, user)
    user.set_password(password)
    try:
        user.save()
    except IntegrityError as error:  # a concurrent registration took the name or number
        raise Conflict("该用户名或身份证号已被注册。", code="account_taken") from error
    audit.record_event(action="account.registered", actor=user, target=user, changes={"account_type": "citizen"})
    return user


@transaction.atomic
def register_enterprise_user(
    *, username: str, password: str, full_name: str, enterprise_uscc: str, enterprise_name: str, phone: str = ""
) -> User:
    """Create an enterprise account bound to a 统一社会信用代码 (GB 32100-2015, checked with python-stdnum).

    Raises ``DomainError`` (invalid code or weak password) or ``Conflict`` (username taken).
    """
    try:
        uscc = identity.normalise_uscc(enterprise_uscc)
        identity.validate_mobile(phone)
    except ValidationError as error:
        raise DomainError(error.messages[0], code="invalid_identity") from error
    if not enterprise_name.strip():
        raise DomainError("请填写企业名称。", code="enterprise_name_required")
    _check_username(username)
    user = User(
        username=username,
        full_name=full_name,
        enterprise_uscc=uscc,
        enterprise_name=enterprise_name.strip(),
        phone=phone,
        account_type=AccountType.ENTERPRISE,
    )
    _validated_password(password, user)
    user.set_password(password)
    try:
        user.save()
    except IntegrityError as error:
        raise Conflict("该用户名已被注册。", code="account_taken") from error
    audit.record_event(
        action="account.registered", actor=user, target=user, changes={"account_type": "enterprise", "uscc": uscc}
    )
    return user


@transaction.atomic
def grant_role(*, user: User, role: str, organisation: Organisation, granted_by: User | None) -> RoleAssignment:
    """Give a staff account a role in an organisation.

    Enforces 三员分立 (GB/T 22239-2019 level 3, 8.1.4.2 安全管理中心): an account holding one of
    系统管理员 / 安全管理员 / 审计管理员 cannot be given another; the database constraint
    ``one_administrator_role_per_user`` catches a concurrent grant. Only a 系统管理员 (or the setup
    command, ``granted_by=None``) may grant roles. Raises ``PermissionDeniedError``, ``DomainError``
    or ``Conflict``.
    """
    if role not in Role.values:
        raise DomainError(f"角色“{role}”不存在。", code="invalid_role")
    if granted_by is not None and not has_role(granted_by, Role.SYSTEM_ADMIN):
        raise PermissionDeniedError("只有系统管理员可以分配角色。")
    if user.account_type != AccountType.STAFF:
        raise DomainError("只能为工作人员账号分配角色。", code="not_staff")
    User.objects.select_for_update().filter(pk=user.pk).first()
    if role in ADMINISTRATOR_ROLES:
        held = RoleAssignment.objects.filter(user=user, role__in=ADMINISTRATOR_ROLES).exclude(role=role).first()
        if held is not None:
            raise Conflict(
                f"该账号已是{held.get_role_display()}，按三员分立要求不能再担任{Role(role).label}。",
                code="administrator_roles_separated",
            )
    existing = RoleAssignment.objects.filter(user=user, role=role, organisation=organisation).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            assignment = RoleAssignment.objects.create(
                user=user, role=role, organisation=organisation, granted_by=granted_by
            )
    except IntegrityError as error:
        raise Conflict(
            "按三员分立要求，一个账号只能担任一种管理员角色。", code="administrator_roles_separated"
        ) from error
    if role == Role.SYSTEM_ADMIN and not user.is_staff:
        user.is_staff = True  # the Django admin is the system administrator's console
        user.save(update_fields=["is_staff"])
    audit.record_event(
        action="role.granted",
        actor=granted_by,
        target=assignment,
        changes={"user": user.username, "role": role, "organisation": organisation.code},
    )
    return assignment


@transaction.atomic
def revoke_role(*, assignment: RoleAssignment, revoked_by: User) -> None:
    """Remove a role assignment. Only a 系统管理员 may do it. Raises ``PermissionDeniedError``."""
    if not has_role(revoked_by, Role.SYSTEM_ADMIN):
        raise PermissionDeniedError("只有系统管理员可以撤销角色。")
    user = assignment.user
    details = {"user": user.username, "role": assignment.role, "organisation": assignment.organisation.code}
    assignment.delete()
    if details["role"] == Role.SYSTEM_ADMIN and not has_role(user, Role.SYSTEM_ADMIN):
        user.is_staff = False
        user.save(update_fields=["is_staff"])
    audit.record_event(action="role.revoked", actor=revoked_by, target=user, changes=details)


def has_role(user: User, *roles: str) -> bool:
    """Whether ``user`` holds any of ``roles`` (in any organisation)."""
    return user.is_authenticated and any(assignment.role in roles for assignment in user.role_assignments.all())


@transaction.atomic
def set_elder_mode(*, user: User, enabled: bool) -> None:
    """Remember a signed-in user's 适老化 preference (larger text, higher contrast)."""
    if user.prefers_elder_mode == enabled:
        return
    user.prefers_elder_mode = enabled
    user.save(update_fields=["prefers_elder_mode"])
    audit.record_event(
        action="account.preference_changed",
        actor=user,
        target=user,
        changes={"prefers_elder_mode": [not enabled, enabled]},
    )


@transaction.atomic
def reveal_personal_data(*, viewer: User, subject: User, field: str) -> str:
    """Return the unmasked ``id_number`` or ``phone`` of ``subject`` and audit the view.

    A user may see their own data; staff may not see other people's through this path yet (case
    handling will grant it per case). Raises ``PermissionDeniedError`` or ``NotFound``.
    """
    if field not in {"id_number", "phone"}:
        raise NotFound("没有这项个人信息。")
    if viewer.pk != subject.pk:
        raise PermissionDeniedError("无权查看他人的个人信息。")
    audit.record_event(action="personal_data.viewed", actor=viewer, target=subject, changes={"field": field})
    return getattr(subject, field) or ""


def verify_two_factor(*, user: User, token: str) -> TOTPDevice:
    """Check a TOTP code (RFC 6238, 6 digits, the authenticator app enrolled on the two-factor page)
    against ``user``'s confirmed device and return the device for ``django_otp.login``.

    The device is chosen here, never by the client. Full-width digits are accepted (an input method
    may type them). A wrong code counts towards django-otp's throttle (1, 2, 4 … seconds) and is
    audited; a code is accepted once only. Raises ``DomainError`` with a Chinese message:
    ``two_factor_not_enrolled``, ``two_factor_throttled`` or ``two_factor_invalid``. Not wrapped in a
    transaction: the failure count and the audit entry must stay when the code is refused.
    """
    device = TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("-id").first()
    if device is None:
        raise DomainError("该账号尚未启用两步验证。", code="two_factor_not_enrolled")
    allowed, details = device.verify_is_allowed()
    if not allowed:
        audit.record_event(
            action="auth.two_factor_failed", actor=user, target=user, outcome="denied", message="验证过于频繁"
        )
        wait = ""
        if details and details.get("locked_until"):
            seconds = max(1, math.ceil((details["locked_until"] - timezone.now()).total_seconds()))
            wait = f"请 {seconds} 秒后"
        raise DomainError(f"动态码错误次数过多，{wait or '请稍后'}再试。", code="two_factor_throttled")
    digits = unicodedata.normalize("NFKC", token).strip()
    if digits.isascii() and digits.isdigit() and len(digits) == device.digits:
        verified = device.verify_token(digits)  # counts a failure itself
    else:
        verified = False
        device.throttle_increment(commit=True)
    if not verified:
        audit.record_event(action="auth.two_factor_failed", actor=user, target=user, outcome="failed")
        raise DomainError(
            "动态码不正确或已过期，请输入身份验证器中当前显示的 6 位数字（每个动态码只能使用一次）。",
            code="two_factor_invalid",
        )
    audit.record_event(action="auth.two_factor_verified", actor=user, target=user)
    return device
