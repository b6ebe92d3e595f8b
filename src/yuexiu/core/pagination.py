"""One way for every list endpoint of the JSON API to answer a page: ``{"count", "items"}``, where
``count`` is the number of matches of the request's filters, whatever ``limit`` and ``offset`` are, and
``items`` the ``limit`` matches after the first ``offset``.

A list endpoint parses its filters into a ``PageIn`` subclass, calls one selector for *all* the matches
(a queryset, or a lazy sequence such as the catalogue's search ranking) and returns
``paginate(matches, filters)``; it never counts the page it cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from django.db.models import QuerySet


class PageParameters(Protocol):
    """What ``paginate`` reads of a request: ``core.api.PageIn`` (limit 1–100, offset ≥ 0)."""

    limit: int
    offset: int


def paginate(matches: QuerySet[Any] | Sequence[Any], page: PageParameters) -> dict[str, Any]:
    """``{"count": number of matches, "items": list of the page}``.

    A queryset is counted in the database (one ``COUNT`` query) and sliced there; a sequence must give
    its full length with ``len()`` and load only the slice it is asked for.
    """
    count = matches.count() if isinstance(matches, QuerySet) else len(matches)
    return {"count": count, "items": list(matches[page.offset : page.offset + page.limit])}
