"""Background jobs of 好差评."""

from __future__ import annotations

from yuexiu.ratings import services


def run_default_ratings() -> dict[str, int]:
    """Give the default rating to finished cases not rated in time, and escalate overdue 差评 steps."""
    return {
        "default_ratings": services.give_default_ratings(),
        "escalated": services.escalate_overdue_rectifications(),
        "sms_queued": services.queue_rating_links(),
    }
