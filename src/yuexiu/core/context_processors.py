from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

ELDER_MODE_COOKIE = "elder_mode"


def is_elder_mode(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return bool(user.prefers_elder_mode)
    return request.COOKIES.get(ELDER_MODE_COOKIE) == "1"


def platform(request: HttpRequest) -> dict[str, object]:
    return {
        "elder_mode": is_elder_mode(request),
        "platform_mode": settings.MODE,
        "platform_name": "数字越秀",
    }
