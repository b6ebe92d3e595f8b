from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "yuexiu.core"
    label = "core"
    verbose_name = "平台基础"

    def ready(self) -> None:
        from yuexiu.core import signals  # noqa: F401  # connects the security-event receivers
