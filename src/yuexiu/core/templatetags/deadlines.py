"""``{% provisional_mark instant %}``: "（暂定）" with its explanation after a deadline that falls in a
year whose State Council holiday notice is not loaded, nothing otherwise.

One calendar per template render (kept in ``render_context``), so a list of deadlines reads each year
once."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils.html import format_html

from yuexiu.core.calendar import get_calendar
from yuexiu.core.workdays import WorkingDayCalendar, local_date, provisional_note

register = template.Library()


@register.simple_tag(takes_context=True)
def provisional_mark(context: template.Context, instant: datetime | None) -> str:
    if instant is None:
        return ""
    calendar: WorkingDayCalendar = context.render_context.setdefault("yuexiu_calendar", get_calendar())
    year = local_date(instant).year
    if not calendar.is_provisional(year):
        return ""
    return format_html('<span class="provisional" title="{}">（暂定）</span>', provisional_note([year]))
