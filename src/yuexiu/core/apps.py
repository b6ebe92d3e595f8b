from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "yuexiu.core"
    label = "core"
    verbose_name = "平台基础"

    def ready(self) -> None:
        from yuexiu.core import signals  # noqa: F401  # connects the security-event receivers
        from yuexiu.core.models import Organisation, RuleParameter
        from yuexiu.core.public_cache import watch_public_models

        # The portal's organisation pages and every item's 实施主体; the dated rules behind the bundles'
        # promised flows (信用修复一件事).
        watch_public_models(Organisation, RuleParameter)
