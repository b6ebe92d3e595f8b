"""`yuexiu setup --demo` gives the platform finished, rated cases and the 差评 loop's work of today;
the figures are deterministic whatever the date."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from yuexiu.ratings import services
from yuexiu.ratings.demo import load_demo_activity
from yuexiu.ratings.models import HandlingReview, Rectification


@pytest.mark.parametrize("today", ["2025-06-18T10:00", "2026-02-16T09:00"], ids=["a-wednesday", "new-years-eve"])
def test_the_demo_activity_yields_the_statistics_quoted_in_the_notes(catalogue, today):
    with time_machine.travel(datetime.fromisoformat(today).replace(tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        assert load_demo_activity() == 60
        assert load_demo_activity() == 0
        total, rows = services.rating_statistics(since=timezone.now() - timedelta(days=365))
    # 60 finished cases of four months, and three of the last days: a 差评 being rectified, one
    # awaiting its callback, one not rated yet.
    assert (total.finished_cases, total.ratings, total.negative) == (63, 62, 6)
    assert (total.good_rate, total.negative_rate, total.active_rate) == (90.3, 9.7, 92.1)
    assert (total.rectification_rate, total.callback_rate) == (50.0, 50.0)
    assert [row.label for row in rows] == [
        "广州市越秀区市场监督管理局",
        "广州市越秀区人力资源和社会保障局",
        "广州市越秀区卫生健康局",
        "广州市公安局越秀区分局",
    ]
    # The rater of the 差评 awaiting its callback has asked for a review of its handling (申诉复核).
    [review] = HandlingReview.objects.filter(outcome="")
    assert review.rectification.organisation.code == "440104-RSJ" and review.rectification.step == "callback"
    closed_by_the_hotline = Rectification.objects.filter(step="closed", callback_level__isnull=False)
    assert {rectification.notes["callback"]["by"] for rectification in closed_by_the_hotline} == {
        catalogue["hotline_demo"].pk
    }
