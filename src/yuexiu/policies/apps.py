from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    """政策兑现 and 免申即享. Hooks: the policy library as reference data, a synthetic registry and a
    first matching run as demo data, the publicity sweep as a periodic job, a workbench panel."""

    name = "yuexiu.policies"
    label = "policies"
    verbose_name = "政策兑现"

    def recompute_deadlines(self, *, years: list[int], now: Any) -> str:
        """Hook for the core's calendar job: move the end of open 公示 periods after a holiday notice."""
        from yuexiu.policies import services

        return f"公示期重算：{services.recompute_publicity_ends(years=years)} 项"

    periodic_jobs = [
        {
            "name": "政策兑现：公示期满自动结束",
            "func": "yuexiu.policies.tasks.close_due_publicities",
            "schedule_type": "H",
        }
    ]

    def load_reference_data(self) -> list[str]:
        from yuexiu.policies import services

        created = services.load_policy_library()
        return [f"政策库：新增规则文件 {created}"] if created else []

    def load_demo_data(self) -> list[str]:
        from yuexiu.policies import demo

        return demo.load_demo_registry()

    def workbench_panel(self, request: Any) -> str:
        from django.template.loader import render_to_string

        from yuexiu.core.models import Role
        from yuexiu.core.services import has_role
        from yuexiu.policies import selectors

        if has_role(request.user, Role.POLICY_OFFICER):
            context = {"queue": selectors.review_queue_counts(request.user), "officer": True}
        elif has_role(request.user, Role.DATA_OFFICER):
            context = {"officer": False}
        else:
            return ""
        return render_to_string("policies/_workbench_panel.html", context, request=request)
