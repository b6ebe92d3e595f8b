"""Rules in words, for the people who read them (the public item page, the reviewer). Pure module."""

from __future__ import annotations

import re

from yuexiu.policies.engine.attributes import ATTRIBUTES
from yuexiu.policies.engine.reference import describe_expected, format_yuan
from yuexiu.policies.engine.rules import Amount, Compare, Condition, Group, Manual, NotGranted


def condition_lines(node: Condition, depth: int = 0, *, sources: bool = False) -> list[tuple[int, str]]:
    """The eligibility tree as (depth, text) lines: groups say "全部满足" / "满足其一". ``sources``
    (staff): a condition that comes from a general rule rather than the item's clause names that rule
    and its confidence ("〔依据：国发〔2016〕33号… （可信度 L）〕")."""
    if isinstance(node, Group):
        lines = (
            []
            if depth == 0 and node.kind == "all"
            else [(depth, "以下条件全部满足：" if node.kind == "all" else "以下条件满足其一：")]
        )
        child_depth = depth if depth == 0 and node.kind == "all" else depth + 1
        for child in node.children:
            lines.extend(condition_lines(child, child_depth, sources=sources))
        return lines
    if isinstance(node, Manual):
        text = f"{node.label}（由主管部门审核认定）"
    elif isinstance(node, NotGranted):
        text = node.label
    else:
        assert isinstance(node, Compare)
        text = f"{node.label}（{describe_expected(node)}）"
    if sources and node.source is not None:
        text += f"〔依据：{node.source}〕"
    return [(depth, text)]


def amount_text(amount: Amount | None) -> str:
    """The amount rule in one Chinese sentence."""
    if amount is None:
        return "奖励标准未录入"
    parts = []
    if amount.formula is not None:
        parts.append(f"按 {in_words(amount.formula.text)} 计算")
    elif amount.per_month is not None:
        parts.append(f"逐月按 {in_words(amount.per_month.text)} 计算并{amount.per_month_rounding}后求和")
    else:
        tiers = "；".join(f"{_when(t.when)}：{in_words(t.value.text)}" for t in amount.tiers)
        parts.append(f"分档：{tiers}")
    if amount.rounding is not None:
        parts.append(str(amount.rounding))
    if amount.cap is not None:
        parts.append(f"最高 {format_yuan(amount.cap)}")
    text = "，".join(parts)
    if amount.kind == "maximum":
        text += "（为上限，具体金额由主管部门审核核定）"
    return text


def _when(node: Condition) -> str:
    return node.label or "条件"


def in_words(formula: str) -> str:
    """A formula with its attribute names replaced by their Chinese labels, ``*`` by ``×``:
    ``(revenue - revenue_prev) * 1%`` → ``(上年度营业收入（元） - 前年营业收入（元）) × 1%``."""
    labelled = re.sub(
        r"[a-z_]+", lambda m: ATTRIBUTES[m.group()].label if m.group() in ATTRIBUTES else m.group(), formula
    )
    return labelled.replace("*", "×").replace("min(", "较小值(").replace("max(", "较大值(")


_TRAILING_REMARK_RE = re.compile(r"\s*[（(][^（）()]*[）)]\s*$")
_CLAUSE_NOT_READ_RE = re.compile(r"^未读到条号\s*(?:[（(](?P<section>[^（）()]*)[）)])?$")


def public_issuer(issuer: str) -> str:
    """The issuer as the public reads it, without the researchers' trailing remarks in brackets:
    ``"广州市越秀区（转载稿，页面未载明发文机关）"`` → ``"广州市越秀区"``. Staff see the full text."""
    text = issuer.strip()
    while (stripped := _TRAILING_REMARK_RE.sub("", text)) != text and stripped:
        text = stripped
    return text


def public_clause(clause: str) -> str:
    """The clause as the public reads it: ``"未读到条号（资金保障措施）"`` (a research note that the
    article number was not found) → ``"资金保障措施"``; ``"未读到条号"`` → ``""``."""
    match = _CLAUSE_NOT_READ_RE.match(clause.strip())
    if match is None:
        return clause
    return match.group("section") or ""


def public_award_text(award_text: str) -> str:
    """The award as the source says it, for the public; ``""`` when the text only records that the
    researchers did not read it (``"未读到（…）"``): the page already says the award is not entered."""
    return "" if award_text.strip().startswith("未读到") else award_text
