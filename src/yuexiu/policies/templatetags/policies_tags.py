from __future__ import annotations

from django import template

from yuexiu.policies.engine import describe
from yuexiu.policies.services import yuan as _yuan

register = template.Library()


@register.filter
def yuan(fen: int | None) -> str:
    """Amount in 分 → "1,234.56元"."""
    return _yuan(fen)


@register.filter
def condition_lines(version: object, sources: bool = False) -> list[tuple[int, str]]:
    """The conditions as (depth, text) lines; ``version|condition_lines:research`` adds, for staff,
    the general rule a condition comes from when it is not the item's own clause."""
    if version is None:
        return []
    return describe.condition_lines(version.eligibility, sources=bool(sources))  # type: ignore[attr-defined]


@register.filter
def amount_text(version: object) -> str:
    return describe.amount_text(version.amount) if version is not None else "—"  # type: ignore[attr-defined]


@register.filter
def public_issuer(issuer: str) -> str:
    return describe.public_issuer(issuer or "")


@register.filter
def public_clause(clause: str) -> str:
    return describe.public_clause(clause or "")


@register.filter
def public_award_text(award_text: str) -> str:
    return describe.public_award_text(award_text or "")


@register.filter
def money(value: object) -> str:
    """A registry amount in 元 (Decimal) → "1,234.56元"; None → "—"."""
    from decimal import Decimal

    from yuexiu.policies.engine.reference import format_yuan

    return "—" if value is None else format_yuan(Decimal(str(value)))
