"""Background jobs of 好差评."""

from __future__ import annotations

from yuexiu.ratings import services


def run_default_ratings() -> int:
    """Give the default rating to closed cases not rated within the configured window."""
    return services.give_default_ratings()
