"""Passwords of every account and the one-time codes sent to its registered phone.

- 找回密码: a code by SMS, then a new password (``request_password_reset``, ``reset_password``).
- 解除登录锁定: the same kind of code, then the lockout is lifted without changing the password
  (``request_unlock_code``, ``unlock_account``): whoever holds the registered phone is the owner,
  so a stranger who locked the account by typing wrong passwords cannot keep its owner out.
- 修改密码 while signed in, with the current password (``change_password``).
- A password the system administrator set in the console is audited and its owner told
  (``record_password_set_by_administrator``).

A code is the same record (``PasswordResetCode``) whatever it was asked for: it proves the phone, and
the per-account limits (one a minute, three an hour) hold for both purposes together, so the two
pages cannot be used to flood a phone. Every request, success and refusal is audited (GB/T
22239-2019 level 3, 安全审计) and the per-address limits count the audit log (``core.throttle``).
Each function says nothing about whether an account exists.
"""

from __future__ import annotations

import secrets
import unicodedata
from datetime import timedelta

from axes.utils import reset as axes_reset
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from yuexiu.core import audit, identity, throttle
from yuexiu.core.errors import DomainError
from yuexiu.core.models import OutboxMessage, PasswordResetCode, User
from yuexiu.core.security import password_problems

PASSWORD_RESET_TOPIC = "account.password_reset"
ACCOUNT_UNLOCK_TOPIC = "account.unlock"
PASSWORD_CHANGED_TOPIC = "account.password_changed"
# Platform security settings (not regulation values): how long a code lives, how often it may be
# asked for, how many wrong tries spend it, how many wrong current passwords a change allows.
RESET_CODE_VALID = timedelta(minutes=15)
RESET_CODE_MAX_ATTEMPTS = 5
RESET_MIN_INTERVAL = timedelta(seconds=60)
RESET_CODES_PER_ACCOUNT_PER_HOUR = 3
RESET_REQUESTS_PER_ADDRESS_PER_HOUR = 10
CODE_REQUEST_ACTIONS = ("account.password_reset_requested", "account.unlock_requested")
PASSWORD_CHANGE_FAILURES_PER_HOUR = 5
RESET_SENT_MESSAGE = "如果账号和手机号与登记的一致，验证码已通过短信发送到该手机，15 分钟内有效。"
RESET_CODE_REFUSED = "验证码不正确、已使用或已过期，请核对，或重新获取验证码。"


def _reset_code_hash(user: User, code: str) -> str:
    return salted_hmac("yuexiu.password_reset", f"{user.pk}:{code}", algorithm="sha256").hexdigest()


def request_password_reset(*, username: str, phone: str) -> None:
    """Send a 6-digit code by SMS (the platform's outbox, ``core.OutboxMessage``) to the phone of the
    account named ``username`` (any width or case) when ``phone`` is the one it registered.

    Says nothing about whether such an account exists: the caller shows ``RESET_SENT_MESSAGE``
    whatever happened. An account gets at most ``RESET_CODES_PER_ACCOUNT_PER_HOUR`` codes an hour and
    one per ``RESET_MIN_INTERVAL`` (further requests are quietly not sent); a new code ends the older
    ones. Raises ``DomainError`` (``too_many_requests``) only when the client's address made
    ``RESET_REQUESTS_PER_ADDRESS_PER_HOUR`` code requests (for either purpose) in the last hour, which
    tells nothing about any account.
    """
    _send_code(username=username, phone=phone, unlock=False)


def request_unlock_code(*, username: str, phone: str) -> None:
    """Send a 6-digit code to lift a login lockout, as ``request_password_reset`` does (same limits,
    same silence about whether the account exists; the caller shows ``RESET_SENT_MESSAGE``)."""
    _send_code(username=username, phone=phone, unlock=True)


def _send_code(*, username: str, phone: str, unlock: bool) -> None:
    now = timezone.now()
    typed = (username or "").strip()[:150]
    if throttle.address_over_limit(
        CODE_REQUEST_ACTIONS, limit=RESET_REQUESTS_PER_ADDRESS_PER_HOUR, window=timedelta(hours=1)
    ):
        audit.record_event(
            action="account.unlock_throttled" if unlock else "account.password_reset_throttled",
            actor_username=typed,
            outcome="denied",
            message="同一地址请求过多",
        )
        what = "解除锁定" if unlock else "找回密码"
        raise DomainError(f"{what}的请求过于频繁，请 1 小时后再试。", code="too_many_requests")
    with transaction.atomic():
        user = (
            User.objects.select_for_update()
            .filter(username_key=identity.username_key(typed), is_active=True)
            .exclude(phone="")
            .first()
        )
        if user is None or not constant_time_compare(user.phone, (phone or "").strip()):
            audit.record_event(
                action="account.unlock_requested" if unlock else "account.password_reset_requested",
                actor_username=typed,
                outcome="failed",
                message="账号不存在、已停用或手机号与登记的不一致，未发送",
            )
            return
        recent = PasswordResetCode.objects.filter(user=user, created_at__gte=now - timedelta(hours=1))
        if (
            recent.count() >= RESET_CODES_PER_ACCOUNT_PER_HOUR
            or recent.filter(created_at__gt=now - RESET_MIN_INTERVAL).exists()
        ):
            audit.record_event(
                action="account.unlock_requested" if unlock else "account.password_reset_requested",
                actor_username=user.username,
                target=user,
                outcome="denied",
                message="发送过于频繁，本次未发送",
            )
            return
        PasswordResetCode.objects.filter(user=user, used_at__isnull=True, expires_at__gt=now).update(expires_at=now)
        code = f"{secrets.randbelow(1_000_000):06d}"
        record = PasswordResetCode.objects.create(
            user=user,
            code_hash=_reset_code_hash(user, code),
            created_at=now,
            expires_at=now + RESET_CODE_VALID,
            requested_from=throttle.current_address(),
        )
        doing = "解除账号登录锁定" if unlock else "找回密码"
        OutboxMessage.objects.create(
            recipient=user,
            phone=user.phone,
            topic=ACCOUNT_UNLOCK_TOPIC if unlock else PASSWORD_RESET_TOPIC,
            subject=f"{doing}验证码",
            body=(
                f"【数字越秀】您正在{doing}，验证码 {code}，15 分钟内有效。"
                "工作人员不会向您索要验证码，请勿告诉他人；如非本人操作，请忽略本短信。"
            ),
            dedupe_key=f"{'account-unlock' if unlock else 'password-reset'}:{record.pk}",
        )
        audit.record_event(
            action="account.unlock_requested" if unlock else "account.password_reset_requested",
            actor_username=user.username,
            target=user,
            message=f"验证码已发送至 {user.masked_phone}",
        )


def _redeem_code(*, username: str, code: str, unlock: bool) -> tuple[User, PasswordResetCode]:
    """The account named ``username`` and its latest live code when ``code`` is that code. A wrong
    code counts against the live one (the ``RESET_CODE_MAX_ATTEMPTS``-th spends it) and is audited.
    Raises ``DomainError`` ``invalid_reset_code``, one message whatever the reason."""
    now = timezone.now()
    typed = (username or "").strip()[:150]
    digits = unicodedata.normalize("NFKC", code or "").strip()
    with transaction.atomic():
        user = User.objects.filter(username_key=identity.username_key(typed), is_active=True).first()
        record = (
            PasswordResetCode.objects.select_for_update()
            .filter(user=user, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at", "-id")
            .first()
            if user is not None
            else None
        )
        matches = (
            record is not None
            and user is not None
            and constant_time_compare(record.code_hash, _reset_code_hash(user, digits))
        )
        if record is not None and not matches:
            record.failed_attempts += 1
            if record.failed_attempts >= RESET_CODE_MAX_ATTEMPTS:
                record.expires_at = now
            record.save(update_fields=["failed_attempts", "expires_at"])
        if not matches:
            audit.record_event(
                action="account.unlock_failed" if unlock else "account.password_reset_failed",
                actor_username=typed,
                target=user,
                outcome="failed",
                message="验证码不正确或已失效",
            )
    if not matches or user is None or record is None:
        raise _code_refused()
    return user, record


def _code_refused() -> DomainError:
    return DomainError(
        RESET_CODE_REFUSED, code="invalid_reset_code", details={"fields": {"code": [RESET_CODE_REFUSED]}}
    )


def _spend(record: PasswordResetCode) -> None:
    """Mark ``record`` used and end the account's other live codes; raises the refusal when a
    concurrent request spent it first."""
    now = timezone.now()
    spent = PasswordResetCode.objects.filter(pk=record.pk, used_at__isnull=True).update(used_at=now)
    if not spent:
        raise _code_refused()
    PasswordResetCode.objects.filter(user_id=record.user_id, used_at__isnull=True).update(expires_at=now)


def reset_password(*, username: str, code: str, new_password: str) -> User:
    """Set a new password for the account named ``username`` with the code sent by
    ``request_password_reset`` (or ``request_unlock_code``: a code proves the phone either way).

    The code must be the account's latest, unused and unexpired; a wrong code counts, and the
    ``RESET_CODE_MAX_ATTEMPTS``-th wrong one spends it. A right code with a password the validators
    refuse is kept, so the person can choose another. On success the code is spent, the account's
    login lockout is lifted (the phone proved the person), other sessions end (the password hash
    changes), the owner gets an SMS notice, and the change is audited. Raises ``DomainError``:
    ``invalid_reset_code`` (one message whatever the reason, so it reveals no account) or
    ``weak_password`` with ``details["fields"]["new_password"]``.
    """
    user, record = _redeem_code(username=username, code=code, unlock=False)
    problems = password_problems(new_password, user)
    if problems:
        raise DomainError("；".join(problems), code="weak_password", details={"fields": {"new_password": problems}})
    with transaction.atomic():
        _spend(record)
        user.set_password(new_password)
        user.save(update_fields=["password"])
        _tell_password_changed(
            user, key=f"password-changed:{record.pk}", subject="密码已重置", how="已通过短信验证码重置"
        )
        audit.record_event(action="account.password_reset", actor=user, target=user, message="通过短信验证码重置密码")
    axes_reset(username=user.username_key)
    return user


def unlock_account(*, username: str, code: str) -> User:
    """Lift the login lockout of the account named ``username`` with the code sent by
    ``request_unlock_code``, from every address, keeping its password. The code is spent; the
    unlock is audited. Raises ``DomainError`` ``invalid_reset_code`` (one message whatever the
    reason)."""
    user, record = _redeem_code(username=username, code=code, unlock=True)
    with transaction.atomic():
        _spend(record)
        audit.record_event(action="account.unlocked", actor=user, target=user, message="通过短信验证码解除登录锁定")
    axes_reset(username=user.username_key)
    return user


def change_password(*, user: User, current_password: str, new_password: str) -> None:
    """Change the password of the signed-in ``user``, who types the current one.

    The current password must be right: each wrong one is audited, and after
    ``PASSWORD_CHANGE_FAILURES_PER_HOUR`` in an hour the change is refused for the rest of the hour
    (a stolen session cannot guess its way to the password). The new password must pass the
    validators and differ from the current one. On success: outstanding reset codes end, other
    sessions end (the password hash changes; the caller keeps its own with
    ``update_session_auth_hash``), the owner gets an SMS notice when a phone is registered, and the
    change is audited. Raises ``DomainError``: ``too_many_requests``, ``wrong_password``
    (``details["fields"]["current_password"]``) or ``weak_password``
    (``details["fields"]["new_password"]``).
    """
    if throttle.account_over_limit(
        user, ("account.password_change_failed",), limit=PASSWORD_CHANGE_FAILURES_PER_HOUR, window=timedelta(hours=1)
    ):
        audit.record_event(
            action="account.password_change_throttled",
            actor=user,
            target=user,
            outcome="denied",
            message="错误次数过多",
        )
        raise DomainError(
            "当前密码错误次数过多，请 1 小时后再试，或退出后通过“找回密码”重设密码。", code="too_many_requests"
        )
    if not user.check_password(current_password or ""):
        audit.record_event(
            action="account.password_change_failed", actor=user, target=user, outcome="failed", message="当前密码不正确"
        )
        wrong = "当前密码不正确。"
        raise DomainError(wrong, code="wrong_password", details={"fields": {"current_password": [wrong]}})
    problems = password_problems(new_password, user)
    if new_password and new_password == current_password:
        problems.append("新密码不能与当前密码相同。")
    if problems:
        raise DomainError("；".join(problems), code="weak_password", details={"fields": {"new_password": problems}})
    now = timezone.now()
    with transaction.atomic():
        PasswordResetCode.objects.filter(user=user, used_at__isnull=True).update(expires_at=now)
        user.set_password(new_password)
        user.save(update_fields=["password"])
        _tell_password_changed(
            user,
            key=f"password-changed:{user.pk}:{now:%Y%m%d%H%M%S%f}:{secrets.token_hex(4)}",
            subject="密码已修改",
            how="已在登录后修改",
        )
        audit.record_event(action="account.password_changed", actor=user, target=user, message="登录后修改密码")


def _tell_password_changed(user: User, *, key: str, subject: str, how: str) -> None:
    if not user.phone:
        return
    OutboxMessage.objects.create(
        recipient=user,
        phone=user.phone,
        topic=PASSWORD_CHANGED_TOPIC,
        subject=subject,
        body=f"【数字越秀】您的账号密码{how}。如非本人操作，请立即通过“找回密码”重设，或联系越秀区政务服务中心。",
        dedupe_key=key,
    )


@transaction.atomic
def record_password_set_by_administrator(*, user: User, actor: User) -> None:
    """Audit a password the system administrator set for ``user`` in the console, and tell the owner
    by SMS (the outbox) that it happened, so that a takeover of an account cannot pass unseen."""
    audit.record_event(action="account.password_set_by_administrator", actor=actor, target=user, message="系统管理后台")
    if user.phone:
        OutboxMessage.objects.create(
            recipient=user,
            phone=user.phone,
            topic=PASSWORD_CHANGED_TOPIC,
            subject="密码已由系统管理员重置",
            body="【数字越秀】您的账号密码已由系统管理员重置。如非本人申请，请立即联系越秀区政务服务中心。",
            dedupe_key=f"password-set:{user.pk}:{secrets.token_hex(8)}",
        )
