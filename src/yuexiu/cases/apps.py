from __future__ import annotations

from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "yuexiu.cases"
    label = "cases"
    verbose_name = "办件"
