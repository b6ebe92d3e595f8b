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
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from yuexiu.core import audit, crypto, identity, throttle
from yuexiu.core.errors import Conflict, DomainError, NotFound, PermissionDeniedError
from yuexiu.core.models import (
    ADMINISTRATOR_ROLES,
    ROLES_SEPARATED_MESSAGE,
    USERNAME_TAKEN_MESSAGE,
    AccountType,
    Organisation,
    OrganisationKind,
    OutboxMessage,
    Role,
    RoleAssignment,
    User,
)
from yuexiu.core.security import password_problems

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


class RegistrationRefused(DomainError):
    """A registration with one or more problems. ``details["fields"]`` maps each form field to its
    Chinese messages (every problem at once, so the person corrects everything in one go);
    ``message`` joins them all."""

    code = "invalid_registration"

    def __init__(self, problems: dict[str, list[str]]) -> None:
        super().__init__("；".join(text for texts in problems.values() for text in texts), details={"fields": problems})
        self.problems = problems


class _Problems:
    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.by_field.setdefault(field, []).append(message)

    def text(self, field: str, value: str, *, label: str) -> str:
        """``value`` stripped; a missing value, or one longer than the account's column, is a problem
        of ``field``."""
        max_length = User._meta.get_field(field).max_length or 0
        value = (value or "").strip()
        if not value:
            self.add(field, f"请填写{label}。")
        elif len(value) > max_length:
            self.add(field, f"{label}不能超过 {max_length} 个字符（现为 {len(value)} 个）。")
        return value

    def raise_if_any(self) -> None:
        if self.by_field:
            raise RegistrationRefused(self.by_field)


def _checked_username(username: str, problems: _Problems) -> str:
    """``username`` in NFKC (full-width letters become ordinary ones); refuses an empty, too long or
    malformed name and one that is the same as an existing account's once width and case are set
    aside (``identity.username_key``)."""
    username = User.normalize_username(problems.text("username", username, label="用户名"))
    if not username or "username" in problems.by_field:
        return username
    try:
        User.username_validator(username)
    except ValidationError:
        problems.add("username", "用户名只能包含字母、数字和 @ . + - _ 符号，不能有空格。")
        return username
    if User.objects.filter(username_key=identity.username_key(username)).exists():
        problems.add("username", USERNAME_TAKEN_MESSAGE)
    return username


def _checked_phone(phone: str, problems: _Problems) -> str:
    phone = (phone or "").strip()
    try:
        identity.validate_mobile(phone)
    except ValidationError as error:
        problems.add("phone", error.messages[0])
    return phone


def _save_new_account(user: User, password: str, problems: _Problems) -> User:
    for message in password_problems(password, user):
        problems.add("password", message)
    problems.raise_if_any()
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as error:  # a concurrent registration took the name (the database's key) or number
        raise Conflict("该用户名或证件号码刚刚已被注册，请换一个用户名，或直接登录。", code="account_taken") from error
    return user


# Registration: one answer whether or not the 身份证号 already has an account (the page must not tell
# a stranger who is registered), and a limit per address (platform security settings, not
# regulation values).
REGISTRATION_ACCEPTED_MESSAGE = (
    "注册申请已受理。新账号现在即可登录；如该身份证号此前已注册过账号，不会再建新账号，"
    "我们已向原账号登记的手机发送短信提醒，请直接登录原账号或找回密码。"
)
REGISTRATION_ATTEMPT_ACTIONS = ("account.registered", "account.registration_refused", "account.registration_duplicate")
REGISTRATIONS_PER_ADDRESS_PER_HOUR = 20
REGISTRATION_ATTEMPT_TOPIC = "account.registration_attempt"


def _refuse_too_many_registrations(username: str) -> None:
    if throttle.address_over_limit(
        REGISTRATION_ATTEMPT_ACTIONS, limit=REGISTRATIONS_PER_ADDRESS_PER_HOUR, window=timedelta(hours=1)
    ):
        audit.record_event(
            action="account.registration_throttled",
            actor_username=(username or "").strip()[:150],
            outcome="denied",
            message="同一地址注册请求过多",
        )
        raise DomainError("注册请求过于频繁，请 1 小时后再试。", code="too_many_requests")


def _audited_refusal(username: str, error: RegistrationRefused) -> None:
    """Record a refused registration (it counts towards the address's limit); field names only,
    never what was typed in them."""
    audit.record_event(
        action="account.registration_refused",
        actor_username=(username or "").strip()[:150],
        outcome="failed",
        changes={"fields": sorted(error.problems)},
    )


def register_citizen(*, username: str, password: str, full_name: str, id_number: str, phone: str = "") -> User | None:
    """Create a 自然人 account. ``id_number`` is checked (GB 11643-1999); the username must differ
    from every other in more than letter width or case.

    Returns the new account, or ``None`` when everything else is right but the 身份证号 already has
    an account: then nothing is created, the owner of that account gets an SMS notice (outbox, at
    most one a day) and the caller answers exactly as for a new account
    (``REGISTRATION_ACCEPTED_MESSAGE``), so that registration cannot be used to learn who has an
    account. Every attempt is audited; an address gets ``REGISTRATIONS_PER_ADDRESS_PER_HOUR``.

    Raises ``RegistrationRefused`` with every problem of every field at once, ``DomainError``
    (``too_many_requests``), or ``Conflict`` when a concurrent registration took the name or number
    between the check and the save.
    """
    _refuse_too_many_registrations(username)
    try:
        return _register_citizen(
            username=username, password=password, full_name=full_name, id_number=id_number, phone=phone
        )
    except RegistrationRefused as error:
        _audited_refusal(username, error)
        raise


@transaction.atomic
def _register_citizen(*, username: str, password: str, full_name: str, id_number: str, phone: str) -> User | None:
    problems = _Problems()
    username = _checked_username(username, problems)
    full_name = problems.text("full_name", full_name, label="姓名")
    number = problems.text("id_number", id_number, label="身份证号")
    if number:
        try:
            number = identity.normalise_id_number(number)
        except ValidationError as error:
            problems.add("id_number", error.messages[0])
    phone = _checked_phone(phone, problems)
    user = User(username=username, full_name=full_name, id_number=number, phone=phone, account_type=AccountType.CITIZEN)
    existing = User.objects.filter(id_number_digest=crypto.digest(number)).first() if number else None
    if existing is not None:
        for message in password_problems(password, user):
            problems.add("password", message)
        problems.raise_if_any()
        _notify_registration_attempt(existing, username)
        return None
    _save_new_account(user, password, problems)
    audit.record_event(action="account.registered", actor=user, target=user, changes={"account_type": "citizen"})
    return user


def _notify_registration_attempt(owner: User, username: str) -> None:
    """Tell the owner of a 身份证号 that someone tried to register it again (one SMS a day at most,
    so that repeated attempts cannot flood their phone), and audit the attempt."""
    today = timezone.localdate()
    if owner.phone:
        OutboxMessage.objects.get_or_create(
            dedupe_key=f"registration-attempt:{owner.pk}:{today:%Y%m%d}",
            defaults={
                "recipient": owner,
                "phone": owner.phone,
                "topic": REGISTRATION_ATTEMPT_TOPIC,
                "subject": "有人尝试用您的身份证号注册",
                "body": (
                    "【数字越秀】有人尝试用您的身份证号注册新账号，未获成功，您的账号未受影响。"
                    "如是您本人，请直接登录或通过“找回密码”重设密码；如非本人，请留意个人信息安全。"
                ),
            },
        )
    audit.record_event(
        action="account.registration_duplicate",
        actor_username=username[:150],
        target=owner,
        outcome="denied",
        message="身份证号已注册，未建新账号，" + ("已短信提醒原账号" if owner.phone else "原账号未登记手机"),
    )


def register_enterprise_user(
    *, username: str, password: str, full_name: str, enterprise_uscc: str, enterprise_name: str, phone: str = ""
) -> User:
    """Create an enterprise account bound to a 统一社会信用代码 (GB 32100-2015, checked with python-stdnum).
    Several accounts may share one code (an enterprise's staff); a self-registered account sees no
    registry data until an administrator verifies it. Every attempt is audited; an address gets
    ``REGISTRATIONS_PER_ADDRESS_PER_HOUR``.

    Raises ``RegistrationRefused`` with every problem at once, ``DomainError`` (``too_many_requests``)
    or ``Conflict`` (a concurrent registration took the name).
    """
    _refuse_too_many_registrations(username)
    try:
        return _register_enterprise_user(
            username=username,
            password=password,
            full_name=full_name,
            enterprise_uscc=enterprise_uscc,
            enterprise_name=enterprise_name,
            phone=phone,
        )
    except RegistrationRefused as error:
        _audited_refusal(username, error)
        raise


@transaction.atomic
def _register_enterprise_user(
    *, username: str, password: str, full_name: str, enterprise_uscc: str, enterprise_name: str, phone: str
) -> User:
    problems = _Problems()
    username = _checked_username(username, problems)
    full_name = problems.text("full_name", full_name, label="经办人姓名")
    enterprise_name = problems.text("enterprise_name", enterprise_name, label="企业名称")
    uscc = problems.text("enterprise_uscc", enterprise_uscc, label="统一社会信用代码")
    if uscc:
        try:
            uscc = identity.normalise_uscc(uscc)
        except ValidationError as error:
            problems.add("enterprise_uscc", error.messages[0])
    phone = _checked_phone(phone, problems)
    user = User(
        username=username,
        full_name=full_name,
        enterprise_uscc=uscc,
        enterprise_name=enterprise_name,
        phone=phone,
        account_type=AccountType.ENTERPRISE,
    )
    _save_new_account(user, password, problems)
    audit.record_event(
        action="account.registered", actor=user, target=user, changes={"account_type": "enterprise", "uscc": uscc}
    )
    return user


def _labels(roles: Iterable[str]) -> str:
    return "、".join(Role(role).label for role in sorted(set(roles), key=Role.values.index))


def role_change_problem(
    *, actor: User | None, user: User, role: str, held: Iterable[str], revoking: bool = False
) -> DomainError | None:
    """Why ``actor`` may not grant (or, with ``revoking``, revoke) ``role`` to ``user``, who holds
    ``held`` (roles, other assignments of the same role included or not); ``None`` when it may.

    The rules of 三员分立 (GB/T 22239-2019 level 3, 8.1.4.2 安全管理中心; 8.1.4.1 the three
    administrators' accounts and duties kept apart):

    - nobody changes their own roles (an administrator would otherwise give itself business data);
    - roles of an administrator's account, and the administrator roles themselves, are granted and
      revoked by the 安全管理员; every other role by the 系统管理员;
    - an account holds at most one administrator role, and never one beside a business role.

    ``actor=None`` is the setup command (the first administrators, the demo): it is not asked for
    permission, but the separation of roles holds for it too. Returns a ``PermissionDeniedError``,
    ``Conflict`` or ``DomainError`` (``invalid_role``, ``not_staff``) with a Chinese message; the
    caller raises it (``grant_role``, ``revoke_role``) or shows it (the admin console's form).
    """
    if role not in Role.values:
        return DomainError(f"角色“{role}”不存在。", code="invalid_role")
    held = {code for code in held if code in Role.values}
    verb = "撤销" if revoking else "分配"
    if actor is not None:
        if actor.pk is not None and actor.pk == user.pk:
            return PermissionDeniedError(f"不能{verb}自己账号的角色，请由其他管理员办理（三员分立）。")
        if role in ADMINISTRATOR_ROLES or held & set(ADMINISTRATOR_ROLES):
            if not has_role(actor, Role.SECURITY_ADMIN):
                return PermissionDeniedError(f"管理员账号的角色只能由安全管理员{verb}（三员分立）。")
        elif not has_role(actor, Role.SYSTEM_ADMIN):
            return PermissionDeniedError(f"只有系统管理员可以{verb}角色。")
    if revoking:
        return None
    if user.account_type != AccountType.STAFF:
        return DomainError("只能为工作人员账号分配角色。", code="not_staff")
    others = held - {role}
    if role in ADMINISTRATOR_ROLES:
        administrator = others & set(ADMINISTRATOR_ROLES)
        if administrator:
            return Conflict(
                f"该账号已是{_labels(administrator)}，按三员分立要求不能再担任{Role(role).label}。",
                code="administrator_roles_separated",
            )
        if others:
            return Conflict(
                f"该账号担任{_labels(others)}，按三员分立要求不能再担任{Role(role).label}；"
                "管理员须使用不担任任何业务角色的专门账号。",
                code="administrator_roles_separated",
            )
    elif others & set(ADMINISTRATOR_ROLES):
        return Conflict(
            f"该账号是{_labels(others & set(ADMINISTRATOR_ROLES))}，按三员分立要求不能再担任"
            f"{Role(role).label}等业务角色。",
            code="administrator_roles_separated",
        )
    return None


@transaction.atomic
def grant_role(*, user: User, role: str, organisation: Organisation, granted_by: User | None) -> RoleAssignment:
    """Give a staff account a role in an organisation; every path that grants a role comes here (the
    admin console, the security administrator's page, the setup command).

    Enforces 三员分立 as ``role_change_problem`` states it; the database refuses the same
    (constraint ``one_administrator_role_per_user`` and the trigger of migration
    ``0013_administrator_roles_exclusive``) for a concurrent grant or any other path. The account's
    row is locked while its roles are read. Raises ``PermissionDeniedError``, ``DomainError`` or
    ``Conflict``; nothing changes then.
    """
    User.objects.select_for_update().filter(pk=user.pk).first()
    held = set(RoleAssignment.objects.filter(user=user).values_list("role", flat=True))
    problem = role_change_problem(actor=granted_by, user=user, role=role, held=held)
    if problem is not None:
        raise problem
    existing = RoleAssignment.objects.filter(user=user, role=role, organisation=organisation).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            assignment = RoleAssignment.objects.create(
                user=user, role=role, organisation=organisation, granted_by=granted_by
            )
    except IntegrityError as error:
        raise Conflict(ROLES_SEPARATED_MESSAGE, code="administrator_roles_separated") from error
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
    """Remove a role assignment: a business role by the 系统管理员, an administrator's by the
    安全管理员, never one's own (``role_change_problem``). Raises ``PermissionDeniedError``."""
    user = assignment.user
    User.objects.select_for_update().filter(pk=user.pk).first()
    held = set(RoleAssignment.objects.filter(user=user).values_list("role", flat=True))
    problem = role_change_problem(actor=revoked_by, user=user, role=assignment.role, held=held, revoking=True)
    if problem is not None:
        raise problem
    details = {"user": user.username, "role": assignment.role, "organisation": assignment.organisation.code}
    assignment.delete()
    if details["role"] == Role.SYSTEM_ADMIN and not has_role(user, Role.SYSTEM_ADMIN):
        user.is_staff = False
        user.save(update_fields=["is_staff"])
    audit.record_event(action="role.revoked", actor=revoked_by, target=user, changes=details)


def has_role(user: User, *roles: str) -> bool:
    """Whether ``user`` holds any of ``roles`` (in any organisation).

    An account holding an administrator role exercises no business role, even one it holds against
    the rules of 三员分立 (given before they were enforced, or by hand in the database): every
    business check (``has_role(user, Role.SUPERVISOR)`` …) answers ``False`` for it."""
    return bool(exercised_roles(user) & set(roles))


def exercised_roles(user: User) -> set[str]:
    """The roles ``user`` acts in: those it holds, but only the administrator role of an account that
    holds one (``has_role``). Empty for anonymous, citizen and enterprise users."""
    if not user.is_authenticated:
        return set()
    held = {assignment.role for assignment in user.role_assignments.all()}
    if held & set(ADMINISTRATOR_ROLES):
        held &= set(ADMINISTRATOR_ROLES)
    return held


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
