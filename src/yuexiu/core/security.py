"""Password rules for GB/T 22239-2019 level 3 (身份鉴别: 口令具有复杂度要求) and the login lockout
(登录失败处理)."""

from __future__ import annotations

import string
from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.password_validation import MinimumLengthValidator, get_default_password_validators
from django.core.exceptions import ValidationError
from django.db.models import Sum

from yuexiu.core import identity

# Our wording for the refusals of Django's own password validators (their catalogue's sentences are
# translations of English; ours say what to do). Our validators below already speak for themselves.
PASSWORD_MESSAGES = {
    "password_too_similar": "密码与用户名、姓名等个人信息过于相似，请换一个。",
    "password_too_common": "密码过于常见，容易被猜中，请换一个。",
    "password_entirely_numeric": "密码不能全部是数字。",
}
OUR_PASSWORD_CODES = {"password_too_short", "password_too_simple"}


def password_problems(password: str, user: object = None) -> list[str]:
    """Every reason the configured validators (``AUTH_PASSWORD_VALIDATORS``) refuse ``password``,
    each once, in our Chinese wording; empty when it is acceptable."""
    if not password:
        return ["请设置密码。"]
    problems: list[str] = []
    for validator in get_default_password_validators():
        try:
            validator.validate(password, user)
        except ValidationError as error:
            for item in error.error_list:
                if item.code in OUR_PASSWORD_CODES:
                    text = str(item.message % item.params if item.params else item.message)
                else:
                    text = PASSWORD_MESSAGES.get(item.code or "", "密码不符合安全要求，请换一个更复杂的密码。")
                if text not in problems:
                    problems.append(text)
    return problems


def axes_username(request: object, credentials: dict[str, object] | None) -> str:
    """The name django-axes counts failures under (``AXES_USERNAME_CALLABLE``): the same folded form
    that finds the account at login, so ``ＣＩＴＩＺＥＮ_demo`` and ``citizen_demo`` share one count."""
    if credentials and credentials.get("username") is not None:
        username = str(credentials["username"])
    else:
        data = getattr(request, "POST", None)
        username = str(data.get("username", "")) if data is not None else ""
    return identity.username_key(username)


class ChineseMinimumLengthValidator(MinimumLengthValidator):
    """Django's length rule with a Chinese message (its zh-hans catalogue lacks this plural form)."""

    def get_error_message(self) -> str:
        return f"密码太短：至少需要 {self.min_length} 个字符。"

    def get_help_text(self) -> str:
        return f"密码至少需要 {self.min_length} 个字符。"


class CharacterClassValidator:
    """Require characters from at least ``min_classes`` of: upper case, lower case, digits, symbols."""

    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def validate(self, password: str, user: object = None) -> None:
        classes = [
            any(char in string.ascii_uppercase for char in password),
            any(char in string.ascii_lowercase for char in password),
            any(char in string.digits for char in password),
            any(not char.isalnum() for char in password),
        ]
        if sum(classes) < self.min_classes:
            raise ValidationError(
                "密码太简单：须同时包含大写字母、小写字母、数字、符号中的至少 %(count)d 类。",
                code="password_too_simple",
                params={"count": self.min_classes},
            )

    def get_help_text(self) -> str:
        return f"密码须包含大写字母、小写字母、数字、符号中的至少 {self.min_classes} 类。"


class AccountAndAddressLockout(AxesDatabaseHandler):
    """django-axes' database handler (``AXES_HANDLER``) with two thresholds instead of one.

    Failures are recorded per account and address (``AXES_LOCKOUT_PARAMETERS = [["username",
    "ip_address"]]``): ``AXES_FAILURE_LIMIT`` wrong passwords from one address stop logins to that
    account from that address only, so a stranger typing wrong passwords cannot lock the owner out
    from the owner's own network. A guesser spread over many addresses is still stopped: once the
    account's failures from all addresses together reach ``AXES_ACCOUNT_FAILURE_LIMIT`` within the
    cool-off time, logins to it are stopped from everywhere. Either lockout ends after
    ``AXES_COOLOFF_TIME``, or at once when the owner proves the registered phone
    (``passwords.unlock_account`` or a password reset).

    Axes compares ``get_failures`` with ``AXES_FAILURE_LIMIT``; this handler returns the failure count
    of the account and address, raised to that limit when the account-wide ceiling is reached.
    """

    def get_failures(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        failures = super().get_failures(request, credentials)
        limit = get_failure_limit(request, credentials)
        if failures >= limit:
            return failures
        username = get_client_username(request, credentials)
        attempts = AccessAttempt.objects.filter(username=username)
        if settings.AXES_COOLOFF_TIME is not None:
            attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
        account_failures = attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
        if account_failures >= settings.AXES_ACCOUNT_FAILURE_LIMIT:
            return limit
        return failures
