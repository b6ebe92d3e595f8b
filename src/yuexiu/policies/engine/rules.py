"""Rule files: the declarative format a policy officer reads, loaded into checked rule objects.

A rule file is YAML, one per policy document (see docs/policy-rules.md for the format with examples).
``load_rule_file(text)`` returns a ``PolicyRules`` or raises ``RuleFileError`` listing EVERY problem
with its line number and a Chinese reason; nothing half-loaded is ever returned. Pure module.

Money in rule files is always written with its unit ("3000万元", "1元", "2.5亿元") and held as
``Decimal`` 元; amounts are computed in ``Decimal`` and rounded only where the rule says (``rounding``).
Boundaries follow the source text: "以上/以下" are written ``>=``/``<=``, "超过/不满" ``>``/``<``.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from yuexiu.core import money
from yuexiu.policies.engine.attributes import ATTRIBUTES, GUANGZHOU_DISTRICTS, TAGS, YUEXIU

MODES = ("免申即享", "申报")
CONFIDENCES = ("H", "M", "L", "U")
ROUNDING_UNITS: dict[str, Decimal] = {
    "分": Decimal("0.01"),
    "角": Decimal("0.1"),
    "元": Decimal("1"),
    "十元": Decimal("10"),
    "百元": Decimal("100"),
    "千元": Decimal("1000"),
    "万元": Decimal("10000"),
}
ROUNDING_MODES = {
    "half_up": "四舍五入",
    "down": "舍去（向下取整）",
    "up": "进一（向上取整）",
    "half_even": "银行家舍入",
}
MAX_CONDITIONS = 63  # one BIGINT bitmask of failed conditions per pair
OPEN_ENDED = "长期有效"  # ``expires:`` of a document that itself sets no expiry (read, not assumed)
VALIDITY_SOURCE_LIMIT = 300
MAX_MONEY = Decimal("1e12")  # 1 万亿元: above any enterprise figure or grant; keeps products in 64 bits

COMPARE_OPS = {"=", "!=", ">", ">=", "<", "<="}
OPS_BY_TYPE: dict[str, set[str]] = {
    "text": {"=", "!=", "in", "not_in"},
    "code": {"=", "!=", "in", "not_in", "prefix", "not_prefix"},
    "date": COMPARE_OPS,
    "int": COMPARE_OPS,
    "money": COMPARE_OPS,
    "bool": {"=", "!="},
    "tags": {"has", "lacks", "has_any", "has_none"},
}
OP_LABELS = {
    "=": "等于",
    "!=": "不等于",
    ">": "大于",
    ">=": "不少于",
    "<": "小于",
    "<=": "不超过",
    "in": "属于",
    "not_in": "不属于",
    "prefix": "行业代码以…开头",
    "not_prefix": "行业代码不以…开头",
    "has": "具有标签",
    "lacks": "不具有标签",
    "has_any": "具有任一标签",
    "has_none": "不具有以下任何标签",
}
RELATIVE_DATE_RE = re.compile(r"^\s*(period_start|period_end|as_of)\s*(?:([+-])\s*(\d{1,2})\s*y)?\s*$")  # ≤ 99 years
FUNCTIONS = {"min", "max"}


class RuleFileError(ValueError):
    """Every problem of a rule file: ``problems`` is a list of ``(line, reason)``; line is 1-based or 0."""

    def __init__(self, problems: list[tuple[int, str]], source: str = "") -> None:
        self.problems = sorted(problems)
        self.source = source
        head = f"{source}：" if source else ""
        super().__init__(
            head + "；".join(f"第{line}行：{reason}" if line else reason for line, reason in self.problems)
        )


# ------------------------------------------------------------------------------------ rule objects


@dataclass(frozen=True)
class RelativeDate:
    """A date relative to the run: ``period_start - 3y`` is the 1 January of the period year, 3 years back."""

    anchor: str
    years: int = 0

    def resolve(self, *, period: int, as_of: date) -> date:
        base = {"period_start": date(period, 1, 1), "period_end": date(period, 12, 31), "as_of": as_of}[self.anchor]
        year = base.year + self.years
        day = min(base.day, 28) if base.month == 2 and base.day == 29 else base.day
        return base.replace(year=year, day=day)

    def __str__(self) -> str:
        label = {"period_start": "所属年度1月1日", "period_end": "所属年度12月31日", "as_of": "匹配基准日"}[self.anchor]
        if self.years:
            return f"{label}{'后' if self.years > 0 else '前'}{abs(self.years)}年"
        return label


@dataclass(frozen=True)
class ConditionSource:
    """Where a condition comes from when it is not the item's own clause: a general rule that applies
    to the item (e.g. the State Council's restriction of seriously dishonest entities from applying for
    fiscal funds). ``confidence`` is the citation's own (H/M/L/U, as in the source data)."""

    document: str
    clause: str = ""
    url: str = ""
    confidence: str = ""
    note: str = ""

    @property
    def citation(self) -> str:
        """``"国发〔2016〕33号《…》二、（十一）"``."""
        return f"{self.document}{self.clause}"

    def __str__(self) -> str:
        return f"{self.citation}（可信度 {self.confidence}）" if self.confidence else self.citation


@dataclass
class Condition:
    """A node of the eligibility tree. Leaves carry ``index``: their bit in the failed-conditions mask.
    ``source`` is set when the condition is not stated by the item's own clause (see ConditionSource)."""

    label: str
    line: int
    source: ConditionSource | None = field(default=None, kw_only=True)


@dataclass
class Group(Condition):
    kind: str  # "all" | "any"
    children: list[Condition] = field(default_factory=list)


@dataclass
class Compare(Condition):
    attr: str
    op: str
    value: Any  # Decimal | int | str | date | RelativeDate | bool | list
    index: int = -1


@dataclass
class Manual(Condition):
    """A condition the data cannot decide (认定、择优): checked by the reviewer, never by the engine."""

    index: int = -1


@dataclass
class NotGranted(Condition):
    """Not already granted this item in the period year (``year``) or ever (``ever``)."""

    within: str = "year"
    index: int = -1


@dataclass(frozen=True)
class Rounding:
    unit: str  # a key of ROUNDING_UNITS, or an amount with its unit ("5万元": each full 5万元)
    mode: str  # a key of ROUNDING_MODES
    amount: Decimal | None = None  # the step in 元 when ``unit`` is an amount

    @property
    def step(self) -> Decimal:
        return self.amount if self.amount is not None else ROUNDING_UNITS[self.unit]

    def __str__(self) -> str:
        if self.amount is not None:
            return f"按每{self.unit}{ROUNDING_MODES[self.mode]}"
        return f"按{self.unit}{ROUNDING_MODES[self.mode]}"


@dataclass(frozen=True)
class Expr:
    """A checked amount formula: ``tree`` is a Python ``ast`` expression over attribute names and
    Decimal literals (only + - *, min, max); ``text`` is what the rule file says."""

    text: str
    tree: ast.AST
    literals: dict[int, Decimal]  # id(ast.Constant) -> exact value from the source text


@dataclass
class Tier:
    when: Condition
    value: Expr


@dataclass
class Amount:
    kind: str  # "exact" | "maximum" (最高/不超过: the engine gives the ceiling, the review decides)
    line: int
    formula: Expr | None = None
    per_month: Expr | None = None  # applied to each month of the series, rounded, then summed
    per_month_rounding: Rounding | None = None
    tiers: list[Tier] = field(default_factory=list)
    cap: Decimal | None = None
    rounding: Rounding | None = None
    note: str = ""


@dataclass
class Version:
    valid_from: date | None
    valid_until: date | None  # None with ``validity_recorded``: the document sets no expiry (长期有效)
    eligibility: Group
    amount: Amount | None
    line: int
    leaves: list[Condition] = field(default_factory=list)  # in bit order
    # False while the policy's effective or expiry date is not recorded (null: the source did not print
    # it). An unknown date is not "open-ended": the version is then in force on no day at all.
    validity_recorded: bool = False

    def covers(self, day: date) -> bool:
        """``day`` lies within the version's dates, an unknown date bounding nothing. Rule tests use
        it to check conditions and amounts of a document whose validity is not yet recorded; it never
        decides whether a rule applies (``in_force`` does)."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )

    def in_force(self, day: date) -> bool:
        """The version applies on ``day``: the policy's validity is recorded and ``day`` is within it."""
        return self.validity_recorded and self.covers(day)


@dataclass
class Item:
    code: str
    name: str
    clause: str
    mode: str
    department: str
    fund_source: str
    budget: Decimal | None
    confidence: str
    incomplete: str
    illustration: bool
    beneficiaries: str
    award_text: str
    notes: str
    versions: list[Version]
    line: int

    def version_on(self, day: date) -> Version | None:
        """The rule version in force on ``day`` (None: the policy is not yet, or no longer, in force,
        or its validity is not recorded)."""
        for version in self.versions:
            if version.in_force(day):
                return version
        return None

    def version_covering(self, day: date) -> Version | None:
        """The version whose dates cover ``day``, unknown dates bounding nothing (rule tests only:
        see ``Version.covers``)."""
        for version in self.versions:
            if version.covers(day):
                return version
        return None


@dataclass
class PolicyRules:
    code: str
    number: str
    title: str
    issuer: str
    effective: date | None
    expires: date | None
    source_url: str
    confidence: str
    illustration: bool
    notes: str
    items: list[Item]
    # Another district of 广州 whose own policy this is ("天河区"): reference material here, never
    # applied to a Yuexiu enterprise. "" for Yuexiu's, the city's, the province's and national policies.
    other_district: str = ""
    expires_open: bool = False  # ``expires: 长期有效``: the document itself sets no expiry
    validity_source: str = ""  # where the recorded dates were read (文号、条款)

    @property
    def validity_recorded(self) -> bool:
        """Both ends of the document's validity are known (an expiry date, or 长期有效 as read)."""
        return self.effective is not None and (self.expires is not None or self.expires_open)

    @property
    def validity_text(self) -> str:
        """``"2025-01-01 至 2027-12-31"``, ``"2025-08-23 起长期有效"``, or what is missing."""
        if not self.validity_recorded:
            missing = "、".join(
                name for name, value in (("生效日期", self.effective), ("失效日期", self.expires)) if value is None
            )
            return f"有效期待核实（{missing}未载明）"
        if self.expires_open:
            return f"{self.effective} 起长期有效"
        return f"{self.effective} 至 {self.expires}"


# ------------------------------------------------------------------------------ YAML with lines


class _LineDict(dict):
    line: int = 0
    key_lines: dict[str, int]


class _LineList(list):
    line: int = 0
    item_lines: list[int]


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _LineDict:
    result = _LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in result:
            loader.problems.append((line, f"字段“{key}”重复（第{result.key_lines[key]}行已有）"))
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    """A date YAML recognises but the calendar refuses (2019-02-30) stays text, so the checker
    reports it with its line instead of the parser failing."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> _LineList:
    result = _LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def parse_yaml(text: str, source: str = "") -> Any:
    """YAML text → values whose mappings and lists remember their line numbers.
    Raises ``RuleFileError`` for a YAML syntax error (with its line)."""
    if "\x00" in text:
        raise RuleFileError([(0, "规则文件含有不可见的控制字符（\\x00），请删除后再保存")], source)
    loader = _Loader(text)
    loader.problems = []
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"（第{mark.column + 1}列附近）" if mark else ""
        reason = f"YAML 格式错误{where}：请检查缩进、冒号、引号和括号是否配对"
        raise RuleFileError([(mark.line + 1 if mark else 0, reason)], source) from None
    except yaml.YAMLError:
        raise RuleFileError([(0, "YAML 格式错误：文件无法解析")], source) from None
    finally:
        loader.dispose()
    if loader.problems:
        raise RuleFileError(loader.problems, source)
    return data


# ------------------------------------------------------------------------------------- checking


class _Checker:
    def __init__(self) -> None:
        self.problems: list[tuple[int, str]] = []

    def fail(self, line: int, reason: str) -> None:
        self.problems.append((line, reason))

    @staticmethod
    def line_of(mapping: Any, key: str | None = None) -> int:
        if isinstance(mapping, _LineDict):
            return mapping.key_lines.get(key, mapping.line) if key else mapping.line
        return getattr(mapping, "line", 0)

    def mapping(self, value: Any, line: int, what: str) -> _LineDict | None:
        if not isinstance(value, dict):
            self.fail(line, f"{what}应为键值对（映射）")
            return None
        return value

    def unknown_keys(self, mapping: _LineDict, allowed: set[str], what: str) -> None:
        for key in mapping:
            if key not in allowed:
                self.fail(
                    self.line_of(mapping, key), f"{what}不认识的字段“{key}”（可用：{'、'.join(sorted(allowed))}）"
                )

    def text(self, mapping: _LineDict, key: str, what: str, *, required: bool = True, limit: int = 200) -> str:
        value = mapping.get(key)
        if value is None or value == "":
            if required:
                self.fail(self.line_of(mapping), f"{what}缺少“{key}”")
            return ""
        if not isinstance(value, str | int) or isinstance(value, bool):
            self.fail(self.line_of(mapping, key), f"“{key}”应为文字")
            return ""
        if len(str(value)) > limit:
            self.fail(self.line_of(mapping, key), f"“{key}”最多 {limit} 个字，实际 {len(str(value))} 个")
            return ""
        return str(value)

    def url(self, mapping: _LineDict, key: str) -> str:
        value = str(mapping.get(key) or "")
        if value and not re.fullmatch(r"https?://\S{1,490}", value):
            self.fail(self.line_of(mapping, key), f"“{key}”应为 http:// 或 https:// 开头的网址")
            return ""
        return value

    def date(self, mapping: _LineDict, key: str) -> date | None:
        value = mapping.get(key)
        if value is None:
            return None
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        also = f"，或“{OPEN_ENDED}”（文件未规定失效日期）" if key == "expires" else ""
        self.fail(self.line_of(mapping, key), f"“{key}”应为日期，如 2025-01-01{also}，实际为“{value}”")
        return None

    def money(self, value: Any, line: int, what: str) -> Decimal | None:
        if not isinstance(value, str):
            self.fail(line, f"{what}应写明金额和单位（元、万元或亿元），如“100万元”，实际为“{value}”")
            return None
        try:
            parsed = money.read_yuan(value, label=what, maximum=None)
        except money.MoneyError as error:
            self.fail(line, error.message)
            return None
        if not parsed < MAX_MONEY:
            self.fail(line, f"{what}应在 0 到 1 万亿元之间，实际为“{value}”")
            return None
        return parsed


def parse_money(value: Any) -> Decimal | None:
    """``"3000万元"``, ``"60 万"``, ``"600,000元"`` → ``Decimal`` 元, read by the platform's one money
    reader (``yuexiu.core.money``); ``None`` when the value is not one amount of 人民币 with a unit."""
    if not isinstance(value, str):
        return None
    try:
        return money.read_yuan(value, maximum=None)
    except money.MoneyError:
        return None


def load_rule_file(text: str, source: str = "") -> PolicyRules:
    """Load and check one policy's rule file.

    Returns ``PolicyRules``; raises ``RuleFileError`` with every problem as (line, Chinese reason):
    unknown fields, unknown attributes, an operator that does not fit the attribute's type, money
    without a unit, a formula with anything but + - * min max, a 免申即享 item with a condition the
    data cannot decide, an incomplete item that still states an amount, overlapping versions,
    more than 63 conditions in one version.
    """
    data = parse_yaml(text, source)
    checker = _Checker()
    root = checker.mapping(data, 1, "规则文件")
    if root is None:
        raise RuleFileError(checker.problems, source)
    checker.unknown_keys(root, {"policy", "items"}, "规则文件")
    policy = checker.mapping(root.get("policy"), checker.line_of(root, "policy") or 1, "policy")
    if policy is None:
        raise RuleFileError(checker.problems, source)
    checker.unknown_keys(
        policy,
        {
            "code",
            "number",
            "title",
            "issuer",
            "effective",
            "expires",
            "source_url",
            "confidence",
            "illustration",
            "notes",
            "district",
            "validity_source",
        },
        "policy ",
    )
    effective = checker.date(policy, "effective")
    expires_open = policy.get("expires") == OPEN_ENDED
    expires = None if expires_open else checker.date(policy, "expires")
    if effective and expires and expires < effective:
        checker.fail(checker.line_of(policy, "expires"), "失效日期早于生效日期")
    confidence = checker.text(policy, "confidence", "policy ")
    if confidence and confidence not in CONFIDENCES:
        checker.fail(checker.line_of(policy, "confidence"), f"confidence 应为 {'/'.join(CONFIDENCES)}")
    items_raw = root.get("items")
    items: list[Item] = []
    if not isinstance(items_raw, list) or not items_raw:
        checker.fail(checker.line_of(root, "items") or 1, "缺少 items（兑现事项列表）")
    else:
        codes: set[str] = set()
        recorded = effective is not None and (expires is not None or expires_open)
        for raw, line in zip(items_raw, items_raw.item_lines, strict=True):
            item = _load_item(checker, raw, line, effective, expires, recorded)
            if item is None:
                continue
            if item.code in codes:
                checker.fail(item.line, f"事项编码“{item.code}”重复")
            codes.add(item.code)
            items.append(item)
    code = checker.text(policy, "code", "policy ", limit=64)
    if code and not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,62}", code):
        checker.fail(checker.line_of(policy, "code"), f"政策编码“{code}”只能用小写字母、数字和连字符")
    rules = PolicyRules(
        code=code,
        number=checker.text(policy, "number", "policy ", required=False, limit=100),
        title=checker.text(policy, "title", "policy ", limit=300),
        issuer=checker.text(policy, "issuer", "policy ", required=False, limit=300),
        effective=effective,
        expires=expires,
        source_url=checker.url(policy, "source_url"),
        confidence=confidence,
        illustration=bool(policy.get("illustration", False)),
        notes=str(policy.get("notes") or ""),
        items=items,
        expires_open=expires_open,
        validity_source=checker.text(policy, "validity_source", "policy ", required=False, limit=VALIDITY_SOURCE_LIMIT),
    )
    rules.other_district = _other_district(checker, policy, rules)
    if checker.problems:
        raise RuleFileError(checker.problems, source)
    return rules


VALIDITY_KEYS = ("effective", "expires", "validity_source")


def with_validity(text: str, *, effective: date, expires: date | None, source: str) -> str:
    """The rule file ``text`` with the policy's validity recorded: ``effective``, ``expires`` (None:
    ``长期有效``, the document sets no expiry) and ``validity_source`` (where the dates were read).
    Only those lines of the policy header change (placed where ``effective``/``expires`` were, or at
    the end of the header); everything else, comments included, stays as written. The result is not
    checked here (``load_rule_file`` does). Raises ``RuleFileError`` when the header is not a block
    mapping written one key per line."""
    data = parse_yaml(text)
    policy = data.get("policy") if isinstance(data, dict) else None
    lines = text.splitlines(keepends=True)
    if not isinstance(policy, _LineDict) or not policy.key_lines:
        raise RuleFileError([(1, "规则文件缺少 policy 部分")])
    indent = None
    spans: dict[str, tuple[int, int]] = {}
    for key, line in policy.key_lines.items():
        match = re.match(r"^([ ]+)" + re.escape(key) + r"\s*:", lines[line - 1])
        if match is None or (indent is not None and match.group(1) != indent):
            raise RuleFileError([(line, "policy 部分的格式无法自动改写，请在规则编辑页直接修改有效期")])
        indent = match.group(1)
        end = line  # the key's line and the deeper-indented lines that continue its value
        while end < len(lines) and (
            not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip(" ")) > len(indent)
        ):
            end += 1
        while end > line and not lines[end - 1].strip():
            end -= 1  # a blank line after the value belongs to what follows
        spans[key] = (line - 1, end)
    value = json.dumps(" ".join(source.split()), ensure_ascii=False)  # a JSON string is a YAML scalar
    block = [
        f"{indent}effective: {effective.isoformat()}\n",
        f"{indent}expires: {expires.isoformat() if expires else OPEN_ENDED}\n",
        f"{indent}validity_source: {value}\n",
    ]
    present = [spans[key] for key in VALIDITY_KEYS if key in spans]
    at = min((start for start, _ in present), default=max(end for _, end in spans.values()))
    drop = {number for start, end in present for number in range(start, end)}
    kept_before = [row for number, row in enumerate(lines[:at]) if number not in drop]
    kept_after = [row for number, row in enumerate(lines[at:], start=at) if number not in drop]
    if kept_before and not kept_before[-1].endswith("\n"):
        kept_before[-1] += "\n"
    return "".join(kept_before + block + kept_after)


# Names of other districts' bodies that do not contain the district's own name.
DISTRICT_ALIASES: dict[str, str] = {
    "广州开发区": "黄埔区",
    "黄埔开发区": "黄埔区",
    "南沙开发区": "南沙区",
    "南沙新区": "南沙区",
}


def other_district_of(*texts: str) -> str:
    """The other district of 广州 a policy belongs to, read from its metadata (issuer, the items'
    departments): ``"广州市天河区商务局"`` → ``"天河区"``; ``"广州南沙开发区管委会办公室"`` → ``"南沙区"``.
    ``""`` when any text names 越秀 (a Yuexiu policy, or one Yuexiu organises) or none names a
    district (the city's, the province's and national policies apply to Yuexiu's enterprises)."""
    if any("越秀" in text for text in texts):
        return ""
    for text in texts:
        for district in GUANGZHOU_DISTRICTS:
            if district != YUEXIU and district in text:
                return district
        for alias, district in DISTRICT_ALIASES.items():
            if alias in text:
                return district
    return ""


def _other_district(checker: _Checker, policy: _LineDict, rules: PolicyRules) -> str:
    """``policy.district`` when written (the district whose enterprises the policy is for), else
    inferred by ``other_district_of`` from the issuer and the items' departments."""
    written = policy.get("district")
    if written is None:
        return other_district_of(rules.issuer, *(item.department for item in rules.items))
    if written not in GUANGZHOU_DISTRICTS:
        checker.fail(
            checker.line_of(policy, "district"),
            f"district 应为广州市的区（{'、'.join(GUANGZHOU_DISTRICTS)}），实际为“{written}”；市级及以上政策不写",
        )
        return ""
    return "" if written == YUEXIU else str(written)


ITEM_KEYS = {
    "code",
    "name",
    "clause",
    "mode",
    "department",
    "fund_source",
    "budget",
    "confidence",
    "incomplete",
    "illustration",
    "beneficiaries",
    "award_text",
    "notes",
    "versions",
}


def _load_item(
    checker: _Checker, raw: Any, line: int, effective: date | None, expires: date | None, recorded: bool
) -> Item | None:
    item = checker.mapping(raw, line, "兑现事项")
    if item is None:
        return None
    checker.unknown_keys(item, ITEM_KEYS, "兑现事项")
    code = checker.text(item, "code", "兑现事项")
    if code and not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,62}", code):
        checker.fail(checker.line_of(item, "code"), f"事项编码“{code}”只能用小写字母、数字和连字符")
    mode = checker.text(item, "mode", "兑现事项")
    if mode and mode not in MODES:
        checker.fail(checker.line_of(item, "mode"), f"mode 应为 {' 或 '.join(MODES)}，实际为“{mode}”")
    budget = None
    if item.get("budget") is not None:
        budget = checker.money(item["budget"], checker.line_of(item, "budget"), "budget（资金预算）")
    confidence = checker.text(item, "confidence", "兑现事项", required=False)
    if confidence and confidence not in CONFIDENCES:
        checker.fail(checker.line_of(item, "confidence"), f"confidence 应为 {'/'.join(CONFIDENCES)}")
    incomplete = checker.text(item, "incomplete", "兑现事项", required=False, limit=500)
    versions_raw = item.get("versions")
    versions: list[Version] = []
    if not isinstance(versions_raw, list) or not versions_raw:
        checker.fail(checker.line_of(item, "versions") or line, "缺少 versions（至少一个规则版本）")
    else:
        for raw_version, version_line in zip(versions_raw, versions_raw.item_lines, strict=True):
            version = _load_version(checker, raw_version, version_line, effective, expires, mode)
            if version is None:
                continue
            version.validity_recorded = recorded
            if incomplete and version.amount is not None:
                checker.fail(version.amount.line, "标为 incomplete（奖励标准未读到）的事项不能写 amount：金额不得推测")
            if not incomplete and version.amount is None:
                checker.fail(version.line, "缺少 amount；奖励标准未读到时请写 incomplete 说明原因")
            versions.append(version)
        _check_overlaps(checker, versions)
    return Item(
        code=code,
        name=checker.text(item, "name", "兑现事项"),
        clause=checker.text(item, "clause", "兑现事项", required=False),
        mode=mode,
        department=checker.text(item, "department", "兑现事项", limit=100),
        fund_source=checker.text(item, "fund_source", "兑现事项", required=False, limit=100),
        budget=budget,
        confidence=confidence,
        incomplete=incomplete,
        illustration=bool(item.get("illustration", False)),
        beneficiaries=str(item.get("beneficiaries") or ""),
        award_text=str(item.get("award_text") or ""),
        notes=str(item.get("notes") or ""),
        versions=versions,
        line=line,
    )


def _check_overlaps(checker: _Checker, versions: list[Version]) -> None:
    lo, hi = date.min, date.max
    ordered = sorted(versions, key=lambda v: v.valid_from or lo)
    for before, after in zip(ordered, ordered[1:], strict=False):
        if (after.valid_from or lo) <= (before.valid_until or hi):
            checker.fail(after.line, "规则版本的有效期与前一版本重叠")


def _load_version(
    checker: _Checker, raw: Any, line: int, effective: date | None, expires: date | None, mode: str
) -> Version | None:
    version = checker.mapping(raw, line, "规则版本")
    if version is None:
        return None
    checker.unknown_keys(version, {"valid_from", "valid_until", "eligibility", "amount"}, "规则版本")
    # An absent (or null) version date is the policy's: a version never reaches past the document.
    valid_from = checker.date(version, "valid_from") if version.get("valid_from") is not None else effective
    valid_until = checker.date(version, "valid_until") if version.get("valid_until") is not None else expires
    if valid_from and valid_until and valid_until < valid_from:
        checker.fail(checker.line_of(version, "valid_until"), "valid_until 早于 valid_from")
    if effective and valid_from and valid_from < effective:
        checker.fail(checker.line_of(version, "valid_from"), "规则版本早于政策生效日期")
    if expires and (valid_until is None or valid_until > expires):
        checker.fail(checker.line_of(version, "valid_until") or line, "规则版本晚于政策失效日期")
    leaves: list[Condition] = []
    raw_eligibility = version.get("eligibility")
    eligibility_line = checker.line_of(version, "eligibility") or line
    eligibility = _load_condition(checker, raw_eligibility, eligibility_line, leaves) if raw_eligibility else None
    if eligibility is None:
        checker.fail(eligibility_line, "缺少 eligibility（条件）")
        eligibility = Group(label="", line=line, kind="all")
    elif not isinstance(eligibility, Group):
        eligibility = Group(label="", line=eligibility.line, kind="all", children=[eligibility])
    if len(leaves) > MAX_CONDITIONS:
        checker.fail(eligibility_line, f"一个版本最多 {MAX_CONDITIONS} 个条件，实际 {len(leaves)} 个")
    if mode == "免申即享":
        for leaf in leaves:
            if isinstance(leaf, Manual):
                checker.fail(
                    leaf.line,
                    f"免申即享事项的条件必须都能由数据判断，“{leaf.label}”需人工认定：请改为申报事项或改写条件",
                )
    amount = None
    if version.get("amount") is not None:
        amount = _load_amount(checker, version["amount"], checker.line_of(version, "amount"))
        if mode == "免申即享" and amount is not None:
            for tier in amount.tiers:
                for leaf in manual_leaves(tier.when):
                    checker.fail(
                        leaf.line,
                        f"免申即享事项的金额档次必须能由数据判断，“{leaf.label}”需人工认定：请改为申报事项或改写档次",
                    )
    return Version(valid_from, valid_until, eligibility, amount, line, leaves)


def _load_condition(checker: _Checker, raw: Any, line: int, leaves: list[Condition] | None) -> Condition | None:
    node = checker.mapping(raw, line, "条件")
    if node is None:
        return None
    line = node.line
    label = str(node.get("label") or "")
    for kind in ("all", "any"):
        if kind in node:
            checker.unknown_keys(node, {kind, "label"}, "条件组")
            children_raw = node[kind]
            if not isinstance(children_raw, list) or not children_raw:
                checker.fail(line, f"条件组 {kind} 应为非空列表")
                return None
            children = [
                child
                for child_raw, child_line in zip(children_raw, children_raw.item_lines, strict=True)
                if (child := _load_condition(checker, child_raw, child_line, leaves)) is not None
            ]
            return Group(
                label=label or ("以下条件全部满足" if kind == "all" else "以下条件满足其一"),
                line=line,
                kind=kind,
                children=children,
            )
    if not label:
        checker.fail(line, "每个条件都要写 label（给人看的条件说明）")
    source = _load_source(checker, node.get("source"), checker.line_of(node, "source")) if "source" in node else None
    if node.get("manual") is not None:
        checker.unknown_keys(node, {"label", "manual", "source"}, "人工条件")
        if node["manual"] is not True:
            checker.fail(line, "manual 只能为 true")
        leaf: Condition = Manual(label=label, line=line)
    elif node.get("not_granted") is not None:
        checker.unknown_keys(node, {"label", "not_granted", "source"}, "条件")
        within = node["not_granted"]
        if within not in ("year", "ever"):
            checker.fail(line, "not_granted 应为 year（本年度未获）或 ever（从未获得）")
        leaf = NotGranted(label=label, line=line, within=str(within))
    else:
        checker.unknown_keys(node, {"label", "attr", "op", "value", "source"}, "条件")
        leaf = _load_compare(checker, node, label, line)
    leaf.source = source
    if leaves is not None:
        leaf.index = len(leaves)  # type: ignore[attr-defined]
        leaves.append(leaf)
    return leaf


SOURCE_KEYS = {"document", "clause", "url", "confidence", "note"}


def _load_source(checker: _Checker, raw: Any, line: int) -> ConditionSource | None:
    """A condition's ``source``: the general rule it comes from, when the item's clause does not state
    it. ``document`` (文号 and title) and ``confidence`` are required; ``clause``, ``url``, ``note``
    optional."""
    node = checker.mapping(raw, line, "条件的 source（出处）")
    if node is None:
        return None
    checker.unknown_keys(node, SOURCE_KEYS, "条件的 source ")
    document = checker.text(node, "document", "条件的 source ", limit=300)
    confidence = checker.text(node, "confidence", "条件的 source ")
    if confidence and confidence not in CONFIDENCES:
        checker.fail(checker.line_of(node, "confidence"), f"source.confidence 应为 {'/'.join(CONFIDENCES)}")
    return ConditionSource(
        document=document,
        clause=checker.text(node, "clause", "条件的 source ", required=False, limit=100),
        url=checker.url(node, "url"),
        confidence=confidence,
        note=checker.text(node, "note", "条件的 source ", required=False, limit=500),
    )


def manual_leaves(node: Condition) -> list[Manual]:
    """The manual leaves of a condition tree (a tier's ``when`` or an eligibility)."""
    if isinstance(node, Group):
        return [leaf for child in node.children for leaf in manual_leaves(child)]
    return [node] if isinstance(node, Manual) else []


def _load_compare(checker: _Checker, node: _LineDict, label: str, line: int) -> Compare:
    attr_name = str(node.get("attr") or "")
    op = str(node.get("op") or "")
    value = node.get("value")
    attribute = ATTRIBUTES.get(attr_name)
    compare = Compare(label=label, line=line, attr=attr_name, op=op, value=value)
    if attribute is None:
        checker.fail(checker.line_of(node, "attr"), f"未知的企业属性“{attr_name}”（见 engine/attributes.py）")
        return compare
    if attribute.type == "series":
        checker.fail(line, f"按月数据“{attr_name}”只能用于 per_month 金额公式，不能作为条件")
        return compare
    allowed = OPS_BY_TYPE[attribute.type]
    if op not in allowed:
        checker.fail(
            checker.line_of(node, "op") or line,
            f"属性 {attr_name}（{attribute.label}）不能用运算“{op}”（可用：{' '.join(sorted(allowed))}）",
        )
        return compare
    if "value" not in node:
        checker.fail(line, "条件缺少 value")
        return compare
    value_line = checker.line_of(node, "value")
    listy = op in ("in", "not_in", "has_any", "has_none") or (
        op in ("prefix", "not_prefix") and isinstance(value, list)
    )
    values = list(value) if isinstance(value, list) else [value]
    if listy and not isinstance(value, list):
        checker.fail(value_line, f"运算 {op} 的 value 应为列表")
        return compare
    if not listy and isinstance(value, list):
        checker.fail(value_line, f"运算 {op} 的 value 应为单个值")
        return compare
    parsed = [_parse_value(checker, attribute.type, v, value_line, op) for v in values]
    compare.value = parsed if listy else parsed[0]
    return compare


def _parse_value(checker: _Checker, kind: str, value: Any, line: int, op: str) -> Any:
    if kind == "money":
        return checker.money(value, line, "金额")
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            checker.fail(line, f"应为整数，实际为“{value}”")
        return value
    if kind == "date":
        if isinstance(value, date):
            return value
        match = RELATIVE_DATE_RE.match(str(value))
        if match:
            years = int(match.group(3) or 0) * (-1 if match.group(2) == "-" else 1)
            return RelativeDate(match.group(1), years)
        checker.fail(line, f"应为日期（2025-01-01）或相对日期（period_start - 3y，最多 99 年），实际为“{value}”")
        return None
    if kind == "bool":
        if not isinstance(value, bool):
            checker.fail(line, "应为 true 或 false")
        return value
    if kind == "tags":
        if value not in TAGS:
            checker.fail(line, f"未知的企业标签“{value}”（可用：{'、'.join(TAGS)}）")
        return value
    if kind == "code":
        text = str(value)
        if not re.fullmatch(r"\d{2,4}", text):
            checker.fail(
                line, f"行业代码应为 GB/T 4754-2017 的 2–4 位数字（门类下的大类、中类或小类），实际为“{value}”"
            )
        if op in ("=", "!=", "in", "not_in") and len(text) != 4:
            checker.fail(line, f"运算 {op} 需要 4 位小类代码；按大类或中类请用 prefix")
        return text
    if not isinstance(value, str | int):
        checker.fail(line, f"应为文字，实际为“{value}”")
    return str(value)


def _load_amount(checker: _Checker, raw: Any, line: int) -> Amount | None:
    node = checker.mapping(raw, line, "amount")
    if node is None:
        return None
    checker.unknown_keys(node, {"kind", "formula", "per_month", "tiers", "cap", "rounding", "note"}, "amount ")
    kind = str(node.get("kind") or "exact")
    if kind not in ("exact", "maximum"):
        checker.fail(
            checker.line_of(node, "kind"), "amount.kind 应为 exact（按公式确定）或 maximum（最高/不超过，审核确定）"
        )
    amount = Amount(kind=kind, line=node.line, note=str(node.get("note") or ""))
    given = [key for key in ("formula", "per_month", "tiers") if key in node]
    if len(given) != 1:
        checker.fail(node.line, "amount 须且只能写 formula、per_month、tiers 之一")
        return amount
    if "formula" in node:
        amount.formula = parse_formula(checker, node["formula"], checker.line_of(node, "formula"), series=False)
    elif "per_month" in node:
        per_month = checker.mapping(node["per_month"], checker.line_of(node, "per_month"), "per_month")
        if per_month is not None:
            checker.unknown_keys(per_month, {"formula", "rounding"}, "per_month ")
            amount.per_month = parse_formula(
                checker, per_month.get("formula"), checker.line_of(per_month, "formula"), series=True
            )
            amount.per_month_rounding = _load_rounding(
                checker, per_month.get("rounding"), checker.line_of(per_month, "rounding") or per_month.line
            )
            if amount.per_month_rounding is None:
                checker.fail(per_month.line, "per_month 须写 rounding（每月先舍入再求和）")
    else:
        tiers_raw = node["tiers"]
        if not isinstance(tiers_raw, list) or not tiers_raw:
            checker.fail(checker.line_of(node, "tiers"), "tiers 应为非空列表（自上而下取第一个满足的档次）")
        else:
            for tier_raw, tier_line in zip(tiers_raw, tiers_raw.item_lines, strict=True):
                tier = checker.mapping(tier_raw, tier_line, "档次")
                if tier is None:
                    continue
                checker.unknown_keys(tier, {"when", "value"}, "档次")
                when = _load_condition(checker, tier.get("when"), checker.line_of(tier, "when") or tier_line, None)
                value = parse_formula(
                    checker, tier.get("value"), checker.line_of(tier, "value") or tier_line, series=False
                )
                if when is not None and value is not None:
                    amount.tiers.append(Tier(when, value))
            if kind == "exact" and any(manual_leaves(tier.when) for tier in amount.tiers):
                checker.fail(
                    checker.line_of(node, "tiers"),
                    "档次条件须由主管部门认定（manual）时，引擎不能确定档次，只能给出可达到的最高档作为上限："
                    "请写 kind: maximum，并把档次按金额从高到低排列",
                )
    if node.get("cap") is not None:
        amount.cap = checker.money(node["cap"], checker.line_of(node, "cap"), "cap（上限）")
    if "rounding" in node:
        amount.rounding = _load_rounding(checker, node["rounding"], checker.line_of(node, "rounding"))
    elif amount.formula is not None and _has_attribute(amount.formula):
        checker.fail(node.line, "按公式计算的金额须写 rounding（舍入单位和方式，如 {to: 元, mode: down}）")
    return amount


def _has_attribute(expr: Expr) -> bool:
    return any(isinstance(node, ast.Name) for node in ast.walk(expr.tree))


def _load_rounding(checker: _Checker, raw: Any, line: int) -> Rounding | None:
    node = checker.mapping(raw, line, "rounding")
    if node is None:
        return None
    checker.unknown_keys(node, {"to", "mode"}, "rounding ")
    unit, mode = str(node.get("to") or ""), str(node.get("mode") or "")
    step = None
    if unit not in ROUNDING_UNITS:
        step = parse_money(unit) if re.search(r"\d", unit) else None
        if step is None or not Decimal("0.01") <= step <= Decimal("100000000"):
            checker.fail(
                node.line,
                f"rounding.to 应为 {'、'.join(ROUNDING_UNITS)}，"
                "或 0.01元 到 1亿元 之间的步长金额（如 5万元：每满5万元）",
            )
            return None
        step = step.to_integral_value() if step == step.to_integral_value() else step.normalize()
    if mode not in ROUNDING_MODES:
        checker.fail(node.line, f"rounding.mode 应为 {'、'.join(f'{k}（{v}）' for k, v in ROUNDING_MODES.items())}")
        return None
    return Rounding(unit, mode, step)


_UNIT_SUBSTITUTIONS = [
    (re.compile(r"(\d+(?:\.\d+)?)\s*亿元?"), r"(\1*100000000)"),
    (re.compile(r"(\d+(?:\.\d+)?)\s*万元?"), r"(\1*10000)"),
    (re.compile(r"(\d+(?:\.\d+)?)\s*元"), r"(\1)"),
    (re.compile(r"(\d+(?:\.\d+)?)\s*‰"), r"(\1*0.001)"),
    (re.compile(r"(\d+(?:\.\d+)?)\s*%"), r"(\1*0.01)"),
]


def parse_formula(checker: _Checker, raw: Any, line: int, *, series: bool) -> Expr | None:
    """Check an amount formula: numbers (with 元/万元/亿元, % or ‰), attributes of type money or int,
    ``+ - *``, ``min(a, b, …)``, ``max(a, b, …)``. Division is refused: a rate is written as a
    multiplication (5‰, 0.005), which keeps every amount exact in Decimal. In a ``per_month`` formula
    exactly one monthly series attribute stands for the month's value."""
    if isinstance(raw, int | Decimal) and not isinstance(raw, bool):
        raw = str(raw)
    if isinstance(raw, float):
        checker.fail(line, '金额公式中的小数请加引号或写单位（如 "0.5万元"），以免精度丢失')
        return None
    if not isinstance(raw, str) or not raw.strip():
        checker.fail(line, "缺少金额公式")
        return None
    text = raw.strip().replace("（", "(").replace("）", ")").replace("×", "*").replace("，", ",")
    for pattern, replacement in _UNIT_SUBSTITUTIONS:
        text = pattern.sub(replacement, text)
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError:
        checker.fail(line, f"金额公式“{raw}”无法解析")
        return None
    literals: dict[int, Decimal] = {}
    series_names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Div | ast.FloorDiv):
                checker.fail(line, f"金额公式“{raw}”不支持除法：比例请写成乘法（如 5‰ 或 0.005）")
                return None
            if not isinstance(node.op, ast.Add | ast.Sub | ast.Mult):
                checker.fail(line, f"金额公式“{raw}”只能用 + - * 和 min、max")
                return None
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ast.USub):
                checker.fail(line, f"金额公式“{raw}”只能用 + - * 和 min、max")
                return None
        elif isinstance(node, ast.Call):
            if (
                not isinstance(node.func, ast.Name)
                or node.func.id not in FUNCTIONS
                or node.keywords
                or len(node.args) < 2
            ):
                checker.fail(line, f"金额公式“{raw}”只能调用 min(a, b, …) 和 max(a, b, …)")
                return None
        elif isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                continue
            attribute = ATTRIBUTES.get(node.id)
            if attribute is None or attribute.type not in ("money", "int", "series"):
                checker.fail(line, f"金额公式“{raw}”中的“{node.id}”不是可计算的企业属性（金额或人数）")
                return None
            if attribute.type == "series":
                if not series:
                    checker.fail(line, f"按月数据“{node.id}”只能用于 per_month 公式")
                    return None
                series_names.add(node.id)
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                checker.fail(line, f"金额公式“{raw}”中有不是数字的常量")
                return None
            segment = ast.get_source_segment(text, node)
            try:
                node.exact = Decimal(segment or str(node.value))  # type: ignore[attr-defined]  # survives copies
                literals[id(node)] = node.exact  # type: ignore[attr-defined]
            except InvalidOperation:
                checker.fail(line, f"金额公式“{raw}”中的数字“{segment}”无法识别")
                return None
        elif not isinstance(node, ast.Load | ast.operator | ast.unaryop | ast.expr_context):
            checker.fail(line, f"金额公式“{raw}”只能用数字、企业属性、+ - * 和 min、max")
            return None
    for value in literals.values():
        if abs(value) >= MAX_MONEY or len(value.as_tuple().digits) > 18:
            checker.fail(line, f"金额公式“{raw}”中的数字过大（应小于 1 万亿）")
            return None
    if not series_names and not any(isinstance(n, ast.Name) and n.id not in FUNCTIONS for n in ast.walk(tree)):
        if not re.search(r"(元|万|亿)", str(raw)):
            checker.fail(line, f"固定金额“{raw}”应写明单位（元、万元或亿元），如“50万元”")
            return None
    if series and len(series_names) != 1:
        checker.fail(line, "per_month 公式须且只能引用一个按月数据属性（如 insured_employees_monthly）")
        return None
    return Expr(text=str(raw).strip(), tree=tree, literals=literals)
