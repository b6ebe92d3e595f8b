"""How long the text people type may be: one limit per kind of text, declared here once and enforced
the same way wherever text comes in (issue 11: a 6,000-character 审批意见 was stored).

- Services check every free-text argument with ``check_lengths`` before they write anything. A value
  over its limit is refused whole, never cut, with a Chinese message that names the field, the limit
  and the length it has, and nothing changes. Pages, the API and the console call the same services,
  so the check holds for all of them.
- Model fields that store such text use the same constants as ``max_length``.
- Django forms use ``text_field`` (a ``CharField`` with the limit and the same message); ninja schemas
  use ``api_text`` (pydantic's ``max_length``; the API's validation handler words it in Chinese:
  "不能超过 N 个字符").
- Templates put the number in the input's ``maxlength`` attribute (a convenience for the browser only).

Lengths are counted in characters (Unicode code points) of the value as stored, that is without the
leading and trailing white space the services strip.

Invisible characters never get in: ``remove_invisible`` strips format and control characters
(U+202E that turns text right-to-left, U+200B and the other zero-width characters, U+00AD …) from
every form value at the door (``core.middleware.ControlCharacterMiddleware``), as Django already
does for uploaded file names (``MultiPartParser.sanitize_file_name`` keeps printable characters only).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any, Final

from yuexiu.core.errors import DomainError


class TextLimit:
    """The longest text of each kind, in characters (plain integers, so migrations record numbers)."""

    do_not_call_in_templates: Final = True  # templates read ``text_limits.OPINION`` for ``maxlength``

    SHORT: Final = 50  # a short label: a window's name, a search word
    NAME: Final = 100  # a person's name, a bank, a special procedure's name
    TITLE: Final = 200  # an applicant's or organisation's name, a bundle form's answer
    LINE: Final = 300  # one line: a legal basis, one item of a correction notice
    FIELD: Final = 500  # one answer on an application form, a summary of changes, a return reason
    COMMENT: Final = 1000  # a rating comment, a self-check note, a guide's applicant scope
    OPINION: Final = 2000  # what staff write on a decision: 审批意见, 不予受理理由, 整改说明, 申诉理由, 异议理由
    REPORT: Final = 5000  # a whole correction notice, a 督办 reply or verification, an integrity observation
    DOCUMENT: Final = 20000  # a guide element typed as lines (materials, steps, questions)
    RULE_FILE: Final = 200000  # a policy rule file (YAML) pasted into the editor; the largest is 33,000


class TextTooLong(DomainError):
    """One or more texts over their limit; ``details["errors"]`` lists every one."""

    status = 400
    code = "text_too_long"


def length_problem(label: str, value: str | None, limit: int) -> str:
    """The Chinese refusal for ``value`` (``label`` names the field as the form shows it), or ``""``
    when it fits within ``limit`` characters."""
    length = len((value or "").strip())
    if length <= limit:
        return ""
    return f"{label}不能超过 {int(limit)} 个字符（现为 {length} 个），未作任何更改，请删减后重新提交。"


def length_problems(fields: Iterable[tuple[str, str | None, int]]) -> list[str]:
    """Every problem of ``(label, value, limit)`` triples, in order."""
    return [problem for label, value, limit in fields if (problem := length_problem(label, value, limit))]


def check_lengths(*fields: tuple[str, str | None, int]) -> None:
    """Refuse when any ``(label, value, limit)`` is too long: raises ``TextTooLong`` whose message
    lists every problem (one request, every problem at once)."""
    problems = length_problems(fields)
    if problems:
        raise TextTooLong("；".join(problems), details={"errors": problems})


def check_lines(label: str, lines: Iterable[str], *, limit: int, total_limit: int) -> None:
    """A text typed as one entry per line (a correction notice): each entry at most ``limit``, the whole
    at most ``total_limit`` characters. Raises ``TextTooLong``."""
    entries = [line.strip() for line in lines if line and line.strip()]
    problems = [
        problem
        for position, entry in enumerate(entries, start=1)
        if (problem := length_problem(f"{label}第 {position} 项", entry, limit))
    ]
    problems += length_problems([(label, "\n".join(entries), total_limit)])
    if problems:
        raise TextTooLong("；".join(problems), details={"errors": problems})


def form_message(label: str, limit: int) -> str:
    """The ``max_length`` error message of a Django form field (``%(show_value)d`` is the length)."""
    return f"{label}不能超过 {int(limit)} 个字符（现为 %(show_value)d 个），未作任何更改，请删减后重新提交。"


def text_field(label: str, limit: int, **options: Any) -> Any:
    """A Django form ``CharField`` of at most ``limit`` characters that refuses a longer value with the
    same message as the services (Django's default wording is not ours)."""
    from django import forms

    field = forms.CharField(label=label, max_length=int(limit), **options)
    field.error_messages["max_length"] = form_message(label, limit)
    return field


def api_text(limit: int, default: Any = None, **options: Any) -> Any:
    """A ninja schema field of at most ``limit`` characters (pydantic ``max_length``)."""
    from ninja import Field

    return Field(default, max_length=int(limit), **options)


# Kept although not "printable" to Python: the line breaks and tab of a multi-line text, and spaces
# such as U+3000 (ideographic space) and U+00A0 that a reader sees as space. Private-use and
# unassigned code points are kept too: legacy systems put rare characters of names (生僻字) there,
# and a character newer than Python's Unicode tables is unassigned to it.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_KEPT_CONTROLS = frozenset("\t\n\r")


def remove_invisible(text: str) -> str:
    """``text`` without invisible format and control characters: ``"张三\u202e"`` → ``"张三"``,
    ``"a\u200bb"`` → ``"ab"``; tab, line breaks and visible spaces are kept (``"第一行\r\n第二行"``
    unchanged). Line and paragraph separators (U+2028, U+2029) become ``"\n"``."""
    if text.isprintable():
        return text
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category not in _INVISIBLE_CATEGORIES or char in _KEPT_CONTROLS:
            kept.append(char)
        elif category in ("Zl", "Zp"):
            kept.append("\n")
    return "".join(kept)
