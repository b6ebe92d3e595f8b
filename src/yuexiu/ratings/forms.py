"""The rating form shared by the QR page, the case page and the window tablet and kiosk.

A refused rating (a 差评 without its comment, no level chosen) comes back with everything the person
chose still chosen and the error tied to its field: the field carries ``aria-invalid`` and
``aria-describedby`` pointing at the message, gets the focus, and the summary above the form links to
it (WCAG 2.1 SC 3.3.1 and 3.3.3).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.http import QueryDict

from yuexiu.core.errors import DomainError
from yuexiu.ratings.models import Level


def posted_rating(post: QueryDict) -> dict[str, Any]:
    """The rating a form posted, as ``rate_case``/``rate_visit`` take it: ``{"level": int (0 when none
    was chosen), "answers": {question: int}, "comment": str}``. The comment is never cut: the service
    refuses one over its limit, and the page gives it back whole to be shortened."""
    level = post.get("level", "")
    answers = {}
    for key, value in post.items():
        if key.startswith("q:") and value.isdecimal():
            answers[key[2:]] = int(value)
    return {
        "level": int(level) if level.isdecimal() else 0,
        "answers": answers,
        "comment": post.get("comment", ""),
    }


def rating_form(
    *,
    questions: Sequence[str],
    posted: Mapping[str, Any] | None = None,
    error: DomainError | None = None,
) -> dict[str, Any]:
    """What ``ratings/_level_fields.html`` renders.

    ``posted`` is a ``posted_rating`` result (kept on the page after a refusal); ``error`` the refusal,
    whose ``details["field"]`` (``level``, ``answers`` with ``question``, or ``comment``) names the field
    at fault. Returns ``{"levels": [{"value", "label", "checked"}], "questions": [{"id", "question",
    "options": [{"value", "label", "selected"}]}], "comment", "error", "error_field", "error_target"}``,
    where ``error_target`` is the id of the element the summary links to and that gets the focus.
    """
    posted = posted or {}
    answers = posted.get("answers") or {}
    field = error.details.get("field", "") if error is not None else ""
    levels = list(reversed(Level.choices))
    question_rows = []
    error_target = ""
    for number, question in enumerate(questions, start=1):
        row_id = f"q-{number}"
        invalid = field == "answers" and error is not None and error.details.get("question") == question
        if invalid:
            error_target = row_id
        question_rows.append(
            {
                "id": row_id,
                "question": question,
                "invalid": invalid,
                "options": [
                    {"value": value, "label": label, "selected": answers.get(question) == value}
                    for value, label in levels
                ],
            }
        )
    if field == "level":
        error_target = f"rating-level-{levels[0][0]}"
    elif field == "comment":
        error_target = "rating-comment"
    return {
        "levels": [
            {"value": value, "label": label, "checked": posted.get("level") == value} for value, label in levels
        ],
        "questions": question_rows,
        "comment": posted.get("comment", ""),
        "error": error.message if error is not None else "",
        "error_field": field if error_target else "",
        "error_target": error_target,
    }
