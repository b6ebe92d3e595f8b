from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "yuexiu.cases"
    label = "cases"
    verbose_name = "办件"

    def recompute_deadlines(self, *, years: list[int], now: Any) -> str:
        """Hook for the core's calendar job: recompute open cases' deadlines after a holiday notice."""
        from yuexiu.cases import services

        return f"办件期限重算：{services.recompute_deadlines(years=years, now=now)} 件"

    def workbench_panel(self, request: Any) -> str:
        """The officer's open and overdue cases, for the staff workbench."""
        from django.template.loader import render_to_string

        from yuexiu.cases import selectors

        cases = selectors.list_staff_cases(request.user)
        context = {"open_count": cases.count(), "overdue_count": selectors.overdue(cases).count()}
        return render_to_string("cases/_workbench_panel.html", context, request=request)
