from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class RatingsConfig(AppConfig):
    """好差评. Hooks: the default-rating sweep as a periodic job, the question sets as reference data."""

    name = "yuexiu.ratings"
    label = "ratings"
    verbose_name = "好差评"

    periodic_jobs = [
        {
            "name": "好差评：超期默认评价",
            "func": "yuexiu.ratings.tasks.run_default_ratings",
            "schedule_type": "H",  # django_q Schedule.HOURLY
        }
    ]

    def workbench_panel(self, request: Any) -> str:
        """Open 差评 rectifications of the viewer's organisations."""
        from django.template.loader import render_to_string

        from yuexiu.core.selectors import visible_organisation_ids
        from yuexiu.ratings.models import Rectification, Step

        visible = visible_organisation_ids(request.user)
        rectifications = Rectification.objects.exclude(step=Step.CLOSED)
        if visible is not None:
            rectifications = rectifications.filter(organisation_id__in=visible)
        return render_to_string(
            "ratings/_workbench_panel.html", {"open_count": rectifications.count()}, request=request
        )

    def load_demo_data(self) -> list[str]:
        """Demo cases and ratings for `yuexiu setup --demo` (see ratings.demo)."""
        from yuexiu.ratings.demo import load_demo_activity

        created = load_demo_activity()
        return [f"演示办件与评价：新增 {created} 件"] if created else []

    def load_reference_data(self) -> list[str]:
        from yuexiu.ratings import services

        created = services.load_question_sets()
        return [f"好差评指标集：新增 {created}"] if created else []
