"""The plain per-enterprise evaluation of a rule version, in Python ``Decimal``.

It is the engine's reference: the vectorised SQL (``engine.sql``) must give the same decision, the
same failed conditions and the same amount to the 分 for every enterprise (tests check both on the
same cases), and it is what a person sees when they ask why: each condition with the value seen.
It is also the baseline the benchmark compares the vectorised engine against. Pure module.

A row is a dict of attribute values as the engine stores them (see ``engine.attributes``): money as
``Decimal`` 元, dates as ``date``, ``tags`` as the int bitmask, the monthly series as a list of ints.
A missing or ``None`` value fails the condition that reads it: data that is not there proves nothing.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any

from yuexiu.core import money
from yuexiu.policies.engine.attributes import ATTRIBUTES, CURRENCY_NAMES, TAGS
from yuexiu.policies.engine.rules import (
    OP_LABELS,
    Amount,
    Compare,
    Condition,
    Expr,
    Group,
    Manual,
    NotGranted,
    RelativeDate,
    Rounding,
    Version,
)

CAPITAL_ATTRIBUTES = frozenset({"registered_capital", "paid_in_capital"})  # in the registered currency
SCALE = Decimal("1e-10")  # intermediate precision, the same as the SQL engine's DECIMAL(38,10)
FEN = Decimal("0.01")
_MODES = {"half_up": ROUND_HALF_UP, "down": ROUND_FLOOR, "up": ROUND_CEILING, "half_even": ROUND_HALF_EVEN}


@dataclass(frozen=True)
class Context:
    """What a decision depends on besides the enterprise: the period year, the as-of date, and the
    years in which the enterprise was already granted each item (item code → set of years)."""

    period: int
    as_of: date
    granted: dict[str, set[int]] = field(default_factory=dict)


@dataclass
class ConditionResult:
    index: int
    label: str
    passed: bool | None  # None: checked by a person (manual)
    seen: str  # the value the condition read, as shown to a person ("越秀区", "5,200万元")
    expected: str
    line: int
    used: str = ""  # the data the condition used, named: "注册地：越秀区" (the "所用数据" column)
    source: str = ""  # a general rule the condition comes from, with its confidence (staff only); "" = the clause


@dataclass
class Decision:
    """One enterprise against one rule version.

    ``eligible``: the data decide it — the tree holds even with every manual condition counted as
    NOT met. ``lead`` (线索): the tree holds only when the manual conditions are met, so a department
    decides (the manual conditions are decisive); the enterprise may apply, but it is not eligible and
    its amount is never counted in a total. Neither: the data exclude it whatever a department decides.
    See docs/policy-rules.md, "Eligible, lead, not eligible"."""

    eligible: bool
    amount_fen: int | None  # None when the item has no amount (incomplete) or the data exclude the enterprise
    failed_mask: int
    conditions: list[ConditionResult]
    ceiling: bool = False  # the amount is a "最高/不超过" ceiling: the review sets the grant
    lead: bool = False  # eligible only if a department finds the manual conditions met

    @property
    def passes_data(self) -> bool:
        """Every condition the data decide allows it: eligible, or a lead."""
        return self.eligible or self.lead

    @property
    def failed(self) -> list[ConditionResult]:
        return [c for c in self.conditions if c.passed is False]

    @property
    def manual(self) -> list[ConditionResult]:
        return [c for c in self.conditions if c.passed is None]


def decide(version: Version, row: dict[str, Any], context: Context, item_code: str) -> Decision:
    """Evaluate one enterprise against one rule version.

    Returns a ``Decision``: eligible, the amount in 分 (exact Decimal arithmetic, rounded only where
    the rule says, then to the 分 half up), the bitmask of failed conditions (bit i = leaf i of the
    version, in the order of the rule file) and every condition with the value seen."""
    results: dict[int, ConditionResult] = {}
    passes_data = _evaluate(version.eligibility, row, context, item_code, results)
    eligible = passes_data and holds(version.eligibility, results, manual_met=False)
    conditions = [results[leaf.index] for leaf in version.leaves]  # type: ignore[attr-defined]
    mask = sum(1 << c.index for c in conditions if c.passed is False)
    amount = None
    if passes_data and version.amount is not None:
        amount = amount_fen(version.amount, row, context, item_code)
    ceiling = version.amount is not None and version.amount.kind == "maximum"
    return Decision(eligible, amount, mask, conditions, ceiling, lead=passes_data and not eligible)


def holds(node: Condition, results: dict[int, ConditionResult], *, manual_met: bool) -> bool:
    """Whether the tree holds on decided leaves, with every manual leaf counted as ``manual_met``."""
    if isinstance(node, Group):
        outcomes = [holds(child, results, manual_met=manual_met) for child in node.children]
        return all(outcomes) if node.kind == "all" else any(outcomes)
    passed = results[node.index].passed  # type: ignore[attr-defined]
    return manual_met if passed is None else passed


def _evaluate(
    node: Condition, row: dict, context: Context, item_code: str, results: dict[int, ConditionResult]
) -> bool:
    if isinstance(node, Group):
        outcomes = [
            _evaluate(child, row, context, item_code, results) for child in node.children
        ]  # no short cut: explain all
        return all(outcomes) if node.kind == "all" else any(outcomes)
    passed, seen, expected = leaf_outcome(node, row, context, item_code)
    index = getattr(node, "index", -1)
    results[index] = ConditionResult(
        index, node.label, passed, seen, expected, node.line, _used(node, seen), str(node.source or "")
    )
    return passed is not False


def _used(node: Condition, seen: str) -> str:
    """The "所用数据" of a leaf: the value it read, named (``"注册地：越秀区"``)."""
    if isinstance(node, Manual):
        return "由主管部门审核认定"
    if isinstance(node, NotGranted):
        return f"本事项扶持记录：{seen}"
    assert isinstance(node, Compare)
    return f"{ATTRIBUTES[node.attr].shown}：{seen}"


def leaf_outcome(node: Condition, row: dict, context: Context, item_code: str) -> tuple[bool | None, str, str]:
    """(passed, value seen, expected) of one leaf condition. ``passed`` is None for a manual one."""
    if isinstance(node, Manual):
        return None, "—", "人工核验"
    if isinstance(node, NotGranted):
        years = context.granted.get(item_code, set())
        hit = bool(years) if node.within == "ever" else context.period in years
        seen = "、".join(f"{y}年" for y in sorted(years)) + "已获" if years else "未获"
        return not hit, seen, "本年度未获同一事项扶持" if node.within == "year" else "从未获得同一事项扶持"
    assert isinstance(node, Compare)
    value = row.get(node.attr)
    expected = describe_expected(node, context)
    if value is None or value == "":
        return False, "无数据", expected
    return _compare(node, value, context), _seen(node, value, row), expected


def _seen(node: Compare, value: Any, row: dict) -> str:
    """The value a condition read, and only that: a tag condition shows the tags it asks about
    (never every tag of the enterprise); capital shows its registered currency."""
    if ATTRIBUTES[node.attr].type == "tags":
        asked = node.value if isinstance(node.value, list) else [node.value]
        held = [tag for tag in asked if value >> TAGS.index(tag) & 1]
        if held:
            return "具有" + "、".join(f"“{tag}”" for tag in held)
        return "不具有" + "、".join(f"“{tag}”" for tag in asked)
    return describe_value(node.attr, value, row.get("capital_currency"))


def _compare(node: Compare, value: Any, context: Context) -> bool:
    kind = ATTRIBUTES[node.attr].type
    target = node.value
    if kind == "date":
        target = (
            target.resolve(period=context.period, as_of=context.as_of) if isinstance(target, RelativeDate) else target
        )
    op = node.op
    if kind == "tags":
        bits = _tag_bits(target if isinstance(target, list) else [target])
        return {
            "has": value & bits == bits,
            "lacks": value & bits == 0,
            "has_any": value & bits != 0,
            "has_none": value & bits == 0,
        }[op]
    if op in ("prefix", "not_prefix"):
        prefixes = target if isinstance(target, list) else [target]
        hit = any(str(value).startswith(p) for p in prefixes)
        return hit if op == "prefix" else not hit
    if op == "in":
        return value in target
    if op == "not_in":
        return value not in target
    if kind == "money":
        value, target = Decimal(value), Decimal(target)
    return {
        "=": value == target,
        "!=": value != target,
        ">": value > target,
        ">=": value >= target,
        "<": value < target,
        "<=": value <= target,
    }[op]


def _tag_bits(tags: list[str]) -> int:
    return sum(1 << TAGS.index(tag) for tag in tags)


def describe_value(attr: str, value: Any, currency: str | None = None) -> str:
    """A registry value as a person reads it: money in 万元 where exact (``"5,200万元"``); capital
    in its registered currency when that is not 人民币 (``"1,000万港元"``)."""
    kind = ATTRIBUTES[attr].type
    if kind == "money":
        text = money.format_readable(Decimal(value))
        if attr in CAPITAL_ATTRIBUTES and currency and currency != "CNY":
            return text.removesuffix("元") + CURRENCY_NAMES.get(currency, currency)  # "1,000万港元", "5万英镑"
        return text
    if kind == "tags":
        names = [tag for i, tag in enumerate(TAGS) if value >> i & 1]
        return "、".join(names) or "无标签"
    if kind == "bool":
        return "是" if value else "否"
    if kind == "series":
        return "、".join(str(v) for v in value)
    if attr == "capital_currency":
        return CURRENCY_NAMES.get(str(value), str(value))
    return str(value)


def describe_expected(node: Compare, context: Context | None = None) -> str:
    target = node.value
    kind = ATTRIBUTES[node.attr].type

    def show(v: Any) -> str:
        if kind == "money":
            return money.format_readable(Decimal(v))
        if isinstance(v, RelativeDate):
            return f"{v}（{v.resolve(period=context.period, as_of=context.as_of)}）" if context else str(v)
        if isinstance(v, bool):
            return "是" if v else "否"
        if node.attr == "capital_currency":
            return CURRENCY_NAMES.get(str(v), str(v))
        return str(v)

    shown = "、".join(show(v) for v in target) if isinstance(target, list) else show(target)
    label = ATTRIBUTES[node.attr].label
    worded = {
        "prefix": f"{label}以 {shown} 开头",
        "not_prefix": f"{label}不以 {shown} 开头",
        "has": f"具有“{shown}”标签",
        "lacks": f"不具有“{shown}”标签",
        "has_any": f"具有以下任一标签：{shown}",
        "has_none": f"不具有以下标签：{shown}",
    }
    if kind == "date":
        worded.update(
            {
                ">=": f"{label}不早于{shown}",
                ">": f"{label}晚于{shown}",
                "<=": f"{label}不晚于{shown}",
                "<": f"{label}早于{shown}",
            }
        )
    return worded.get(node.op, f"{label}{OP_LABELS[node.op]}{shown}")


def format_yuan(value: Decimal) -> str:
    """``Decimal("1234567.5")`` → ``"1,234,567.50元"``."""
    return f"{value.quantize(FEN):,}元"


def round_to(value: Decimal, rounding: Rounding) -> Decimal:
    """Round to the rule's unit and mode; ``down`` and ``up`` are toward −∞ and +∞ (amounts are ≥ 0)."""
    step = rounding.step
    return ((value / step).quantize(Decimal(1), rounding=_MODES[rounding.mode]) * step).quantize(SCALE)


def amount_fen(amount: Amount, row: dict, context: Context, item_code: str) -> int:
    """The amount in 分: formula / per-month sum / first matching tier, floored at 0, rounded as the
    rule says, capped, then to the 分 (half up)."""
    value: Decimal | None
    if amount.formula is not None:
        value = evaluate_expr(amount.formula, row)
    elif amount.per_month is not None:
        series_name = next(
            n.id
            for n in ast.walk(amount.per_month.tree)
            if isinstance(n, ast.Name) and ATTRIBUTES.get(n.id) and ATTRIBUTES[n.id].type == "series"
        )
        months = row.get(series_name)
        if months is None:
            value = None
        else:
            value = sum(
                (
                    round_to(v, amount.per_month_rounding)
                    for m in months
                    if (v := evaluate_expr(amount.per_month, {**row, series_name: m})) is not None
                ),  # type: ignore[arg-type]
                Decimal(0),
            )
            value = value if any(m is not None for m in months) else None
    else:
        value = None
        for tier in amount.tiers:
            if _evaluate(tier.when, row, context, item_code, {}):
                value = evaluate_expr(tier.value, row)
                break
    value = max(value or Decimal(0), Decimal(0))
    if amount.rounding is not None:
        value = round_to(value, amount.rounding)
    if amount.cap is not None:
        value = min(value, amount.cap)
    return int(value.quantize(FEN, rounding=ROUND_HALF_UP) * 100)


def evaluate_expr(expr: Expr, row: dict) -> Decimal | None:
    """Evaluate a checked formula exactly; ``None`` when an attribute it reads has no data."""

    def ev(node: ast.AST) -> Decimal | None:
        if isinstance(node, ast.Constant):
            return node.exact.quantize(SCALE)
        if isinstance(node, ast.Name):
            value = row.get(node.id)
            return None if value is None else Decimal(value).quantize(SCALE)
        if isinstance(node, ast.UnaryOp):
            inner = ev(node.operand)
            return None if inner is None else -inner
        if isinstance(node, ast.BinOp):
            left, right = ev(node.left), ev(node.right)
            if left is None or right is None:
                return None
            if isinstance(node.op, ast.Add):
                return left + right
            if isinstance(node.op, ast.Sub):
                return left - right
            return (left * right).quantize(SCALE, rounding=ROUND_HALF_UP)
        if isinstance(node, ast.Call):
            args = [ev(a) for a in node.args]
            if any(a is None for a in args):
                return None
            return min(args) if node.func.id == "min" else max(args)  # type: ignore[attr-defined,type-var]
        raise TypeError(f"unexpected formula node {ast.dump(node)}")

    return ev(expr.tree)


def amount_inputs(amount: Amount | None, row: dict) -> list[tuple[str, str]]:
    """The attributes an amount rule reads, with the values used: ``[("上年度营业收入（元）", "…元")]``."""
    if amount is None:
        return []
    exprs = [e for e in (amount.formula, amount.per_month) if e is not None] + [t.value for t in amount.tiers]
    names: list[str] = []
    for expr in exprs:
        for node in ast.walk(expr.tree):
            if isinstance(node, ast.Name) and node.id in ATTRIBUTES and node.id not in names:
                names.append(node.id)
    currency = row.get("capital_currency")
    return [
        (ATTRIBUTES[n].shown, "无数据" if row.get(n) is None else describe_value(n, row[n], currency)) for n in names
    ]
