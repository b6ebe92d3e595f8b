"""`yuexiu setup --demo` gives the platform finished, rated cases; the figures are deterministic."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from yuexiu.ratings import services
from yuexiu.ratings.demo import load_demo_activity


def test_the_demo_activity_yields_the_statistics_quoted_in_the_notes(catalogue):
    assert load_demo_activity() == 60
    assert load_demo_activity() == 0
    total, rows = services.rating_statistics(since=timezone.now() - timedelta(days=365))
    assert (total.finished_cases, total.ratings, total.negative) == (60, 60, 4)
    assert (total.good_rate, total.negative_rate, total.active_rate) == (93.3, 6.7, 93.3)
    assert (total.rectification_rate, total.callback_rate) == (75.0, 75.0)
    assert [row.label for row in rows] == [
        "广州市越秀区市场监督管理局",
        "广州市越秀区人力资源和社会保障局",
        "广州市越秀区卫生健康局",
        "广州市公安局越秀区分局",
    ]
