from __future__ import annotations

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

    def load_reference_data(self) -> list[str]:
        from yuexiu.ratings import services

        created = services.load_question_sets()
        return [f"好差评指标集：新增 {created}"] if created else []
