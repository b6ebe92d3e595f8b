from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    """监督一点通. Hooks for the core: its sweep as a periodic job, the supervised items as reference
    data, the cases in progress with their alerts and orders as demo data, and the viewer's open
    alerts and orders on the workbench."""

    name = "yuexiu.supervision"
    label = "supervision"
    verbose_name = "监督一点通"

    periodic_jobs = [
        {
            "name": "监督一点通：预警规则扫描",
            "func": "yuexiu.supervision.tasks.run_sweep",
            "schedule_type": "I",  # django_q Schedule.MINUTES
            "minutes": 5,
        }
    ]

    def load_reference_data(self) -> list[str]:
        """On a new installation, every catalogue item starts under supervision (supervisors narrow it)."""
        from yuexiu.catalog.models import ServiceItem
        from yuexiu.supervision.models import SupervisedItem

        if SupervisedItem.objects.exists():
            return []
        SupervisedItem.objects.bulk_create(
            SupervisedItem(item=item) for item in ServiceItem.objects.filter(is_active=True)
        )
        return [f"重点监督事项：{SupervisedItem.objects.count()} 个（可由监督人员调整；区 2024 年度报告为 55 个）"]

    def load_demo_data(self) -> list[str]:
        """Cases in every state, with the sweep's alerts and orders (see supervision.demo)."""
        from yuexiu.supervision.demo import load_demo_work

        return load_demo_work()

    def workbench_panel(self, request: Any) -> str:
        from django.template.loader import render_to_string

        from yuexiu.supervision import selectors

        if not request.user.is_staff_account:
            return ""
        context = {
            "alert_count": selectors.list_alerts(request.user).count(),
            "order_count": selectors.list_orders(request.user, open_only=True).count(),
        }
        return render_to_string("supervision/_workbench_panel.html", context, request=request)
