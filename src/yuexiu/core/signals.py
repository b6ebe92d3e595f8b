"""Security events raised by Django and django-axes, written to the audit log.

Login, logout and failures are announced by ``django.contrib.auth`` and lockouts by django-axes as
signals; receiving them is the only way to see those events, so this module is the exception to
"no signals" in the style guide.
"""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from yuexiu.core import audit
from yuexiu.core.context_processors import ELDER_MODE_COOKIE


@receiver(user_logged_in)
def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit.record_event(action="auth.login_succeeded", actor=user, target=user)
    if request is not None and request.COOKIES.get(ELDER_MODE_COOKIE) == "1" and not user.prefers_elder_mode:
        from yuexiu.core.services import set_elder_mode

        set_elder_mode(user=user, enabled=True)


@receiver(user_logged_out)
def on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit.record_event(action="auth.logged_out", actor=user, target=user)


@receiver(user_login_failed)
def on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    audit.record_event(
        action="auth.login_failed",
        actor_username=str(credentials.get("username", ""))[:150],
        outcome="failed",
        message="用户名或密码错误",
    )


@receiver(user_locked_out)
def on_locked_out(
    sender: Any, request: Any, username: str | None = None, ip_address: str | None = None, **kwargs: Any
) -> None:
    audit.record_event(
        action="auth.locked_out",
        actor_username=(username or "")[:150],
        outcome="denied",
        message="连续登录失败次数过多，账号已被临时锁定",
        changes={"ip_address": ip_address},
    )
