from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """The service catalogue. ``yuexiu setup``, the worker's schedules and the staff workbench ask each
    app for these hooks, so the core never imports a domain app."""

    name = "yuexiu.catalog"
    label = "catalog"
    verbose_name = "政务服务事项目录"

    def ready(self) -> None:
        from yuexiu.catalog.models import (
            BundleItem,
            CitywideHandling,
            GuideVersion,
            ServiceBundle,
            ServiceItem,
            SharedEvidence,
        )
        from yuexiu.core.public_cache import watch_public_models

        # What the public catalogue pages and the search index show (core.public_cache).
        watch_public_models(ServiceItem, GuideVersion, CitywideHandling, ServiceBundle, BundleItem, SharedEvidence)

    periodic_jobs = [
        {
            "name": "办事指南同事同标检查",
            "func": "yuexiu.catalog.tasks.run_nightly_guide_checks",
            "schedule_type": "D",  # django_q Schedule.DAILY
        }
    ]

    def load_reference_data(self) -> list[str]:
        """Seed the catalogue (idempotent) and run the guide checks when something new was loaded."""
        from yuexiu.catalog import seed, services

        catalogue = seed.load_seed_catalogue()
        lines = [
            f"事项目录：新增事项 {catalogue['items']}，一件事 {catalogue['bundles']}，"
            f"全市通办 {catalogue['citywide']}，免提交材料 {catalogue['evidence']}"
        ]
        if catalogue["items"]:
            run = services.run_guide_checks()
            lines.append(f"办事指南检查：{run.item_count} 个事项，发现问题 {run.finding_count} 条")
        return lines

    def load_demo_data(self) -> list[str]:
        """Guide changes in review for the demo editors and reviewer (see catalog.demo)."""
        from yuexiu.catalog.demo import load_demo_guides

        return load_demo_guides()

    def workbench_panel(self, request: Any) -> str:
        """The guide-check counts per department the viewer may see, for the staff workbench."""
        from django.template.loader import render_to_string

        from yuexiu.catalog import selectors, services

        if not services.can_work_on_guides(request.user):
            return ""
        run = selectors.latest_check_run()
        reports = selectors.findings_by_department(run, request.user) if run else []
        return render_to_string("catalog/_workbench_panel.html", {"run": run, "reports": reports}, request=request)
