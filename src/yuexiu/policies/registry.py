"""The enterprise registry (一企一档): read an uploaded register, parse its messy cells, and generate a
synthetic register for demos and benchmarks. Pure module: bytes and strings in, plain values out, no
Django import.

A row is a ``dict`` with the keys of ``ROW_FIELDS`` (the attribute names of
``yuexiu.policies.engine.attributes.ATTRIBUTES`` in that order, then ``is_synthetic``):

- text attributes are ``str`` or ``None``; ``industry_code`` is a GB/T 4754-2017 class code of four
  digits (``"6513"``);
- dates are ``datetime.date``; ``foreign_invested`` is ``bool``; ``employees`` is ``int``;
- money is ``Decimal`` in 元 with exactly two decimals (``Decimal("500000.00")``). Registered and
  paid-in capital are in the registered currency ``capital_currency`` (an ISO 4217 code from
  ``CURRENCIES``); every other amount is in 人民币;
- ``insured_employees_monthly`` is a list of 12 ``int`` (January first);
- ``tags`` is a list of labels from ``TAGS``, in ``TAGS`` order;
- ``credit_status`` is one of ``CREDIT_STATUSES``;
- ``None`` means "not known" (a column missing from the file, an empty cell).

Enterprises are matched on the 统一社会信用代码 (GB 32100-2015), never on the name: two rows with the
same name and different codes are reported as a ``NameClash`` warning for a person to check.
"""

from __future__ import annotations

import bisect
import csv
import math
import random
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import InvalidChecksum, InvalidLength, ValidationError

from yuexiu.core.money import BLANK_MARKERS, MAX_STORED, MoneyError, read_money
from yuexiu.core.tabular import TableError, read_table, strip_formula_guard
from yuexiu.policies.engine.attributes import (
    ATTRIBUTES,
    CREDIT_STATUSES,
    CURRENCIES,
    CURRENCY_NAMES,
    GUANGZHOU_DISTRICTS,
    TAGS,
    YUEXIU,
)

Row = dict[str, Any]

# The keys of a row dict, in order: the attribute catalogue, then the synthetic-data marker.
ROW_FIELDS: tuple[str, ...] = (*ATTRIBUTES, "is_synthetic")

DATA_DIR = Path(__file__).resolve().parent / "data"

# The 18 subdistricts of 越秀区 (division codes 440104001000…440104022000).
YUEXIU_SUBDISTRICTS: tuple[str, ...] = (
    "洪桥街道",
    "北京街道",
    "六榕街道",
    "流花街道",
    "光塔街道",
    "人民街道",
    "东山街道",
    "农林街道",
    "梅花村街道",
    "黄花岗街道",
    "华乐街道",
    "建设街道",
    "大塘街道",
    "珠光街道",
    "大东街道",
    "白云街道",
    "登峰街道",
    "矿泉街道",
)

MAX_AMOUNT = MAX_STORED  # DECIMAL(18,2) holds 16 digits before the point

assert tuple(CURRENCY_NAMES) == CURRENCIES, "CURRENCY_NAMES must name every currency of the catalogue"


# --- registered capital --------------------------------------------------------------------------------


class CapitalParseError(MoneyError):
    """A capital text that cannot be read; ``str(error)`` is a Chinese message naming ``text``."""


def parse_capital(text: str, *, label: str = "注册资本") -> tuple[Decimal | None, str | None]:
    """Read a registered (or paid-in) capital as registers write it: ``(amount in 元, ISO currency)``.

    ``"50(万元人民币)"`` → ``(Decimal("500000.00"), "CNY")``; ``"2,029(万人民币元)"`` →
    ``(Decimal("20290000.00"), "CNY")``; ``"800(万香港元)"`` → ``(Decimal("8000000.00"), "HKD")``;
    ``"1.5亿元"`` → ``(Decimal("150000000.00"), "CNY")``; ``"100万美元"`` → USD. Full-width digits and
    brackets are read as half-width; a number with "万"/"百万"/"千万"/"亿" and no currency is 人民币.
    The amount is in the registered currency, never converted. ``""``, ``"-"``, ``"N/A"``, ``"无"``,
    ``"暂无"`` → ``(None, None)``. The platform's one money reader (``yuexiu.core.money``) does the work.

    Raises ``CapitalParseError`` (a ``ValueError``) with a Chinese message naming ``text`` (and
    ``label``, the column name) for anything else: a bare number without unit (``"500"``: 元 or 万元?),
    Chinese numerals (``"壹佰万元"``), an unknown currency, more than one number, an amount finer than
    a cent or of 10^16 元 and more. Decimal arithmetic only.
    """
    try:
        return read_money(text, label=label, example="50(万元人民币)", maximum=MAX_AMOUNT)
    except MoneyError as error:
        raise CapitalParseError(error.message.replace("这样的金额", "这样的金额和币种"), text) from None


# --- unified social credit code (GB 32100-2015) ----------------------------------------------------------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: no I, O, Z, S, V
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_VALUES = {char: index for index, char in enumerate(USCC_ALPHABET)}
_ORGANISATION_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714-1997


def normalise_uscc(text: str) -> str:
    """A 统一社会信用代码 as stored: stripped, half-width, upper case, without spaces or hyphens.

    Full-width digits and letters become half-width (``"９１…ｌ"`` → ``"91…L"``). Validated with
    python-stdnum (``stdnum.cn.uscc``: length, characters, GB 32100-2015 check digit).
    Raises ``ValueError`` with a Chinese message naming the text.
    """
    shown = text.strip()
    compact = "".join(unicodedata.normalize("NFKC", text).split()).replace("-", "").upper()
    if not compact:
        raise ValueError("统一社会信用代码不能为空")
    try:
        return str(stdnum_uscc.validate(compact))
    except InvalidLength:
        raise ValueError(f"统一社会信用代码“{shown}”长度应为18位，实为{len(compact)}位") from None
    except InvalidChecksum:
        raise ValueError(f"统一社会信用代码“{shown}”校验位不正确：请逐位核对是否抄错") from None
    except ValidationError:
        raise ValueError(
            f"统一社会信用代码“{shown}”含有无效字符：前8位应为数字，其余为数字或大写字母（不含 I、O、Z、S、V）"
        ) from None


def uscc_check_digit(first17: str) -> str:
    """The GB 32100-2015 check digit (18th character) for the first 17 characters of a USCC.

    ``"91110000600037341"`` → ``"L"``. Raises ``KeyError`` for a character outside ``USCC_ALPHABET``.
    """
    total = sum(_USCC_VALUES[char] * weight for char, weight in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[-total % 31]


def organisation_code_check_digit(body: str) -> str:
    """The GB 11714-1997 check digit of an 8-character organisation code body (USCC characters 9–16).

    Digits count as their value, letters A–Z as 10–35; ``"MA59H0U4"``-style bodies are allowed.
    Returns ``"0"``…``"9"`` or ``"X"``.
    """
    total = sum(
        (int(char) if char.isdigit() else ord(char) - 55) * weight
        for char, weight in zip(body, _ORGANISATION_CODE_WEIGHTS, strict=True)
    )
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


# --- industry (GB/T 4754-2017) -----------------------------------------------------------------------------

# The section letter of each two-digit division (大类) of GB/T 4754-2017.
_SECTION_RANGES = (
    ("A", 1, 5),
    ("B", 6, 12),
    ("C", 13, 43),
    ("D", 44, 46),
    ("E", 47, 50),
    ("F", 51, 52),
    ("G", 53, 60),
    ("H", 61, 62),
    ("I", 63, 65),
    ("J", 66, 69),
    ("K", 70, 70),
    ("L", 71, 72),
    ("M", 73, 75),
    ("N", 76, 79),
    ("O", 80, 82),
    ("P", 83, 83),
    ("Q", 84, 85),
    ("R", 86, 90),
    ("S", 91, 96),
    ("T", 97, 97),
)
SECTION_OF_DIVISION: dict[str, str] = {
    f"{division:02d}": letter for letter, first, last in _SECTION_RANGES for division in range(first, last + 1)
}
_INDUSTRY_CODE_RE = re.compile(r"([A-Z]?)(\d{3,4})")


@dataclass(frozen=True)
class Industry:
    """A GB/T 4754-2017 class (小类): ``Industry("6513", "I", "应用软件开发")``."""

    code: str
    section: str
    name: str


@cache
def load_industries() -> dict[str, Industry]:
    """The industry classes of ``data/industries.csv`` (a selection of GB/T 4754-2017), by code."""
    with (DATA_DIR / "industries.csv").open(encoding="utf-8", newline="") as file:
        return {row["code"]: Industry(row["code"], row["section"], row["name"]) for row in csv.DictReader(file)}


def industry_section(code: str) -> str:
    """The GB/T 4754-2017 section letter (门类) of a class code: ``"6513"`` → ``"I"``.

    Raises ``KeyError`` for a code whose first two digits are not a division (01–97).
    """
    return SECTION_OF_DIVISION[code[:2]]


def parse_industry_code(text: str) -> str:
    """A GB/T 4754-2017 class code as stored, four digits: ``"I6513"``, ``"6513"``, ``"i 6513"`` → ``"6513"``.

    A leading section letter must match the division (``"J6513"`` is refused: 65 is in section I). Three
    digits get their leading zero back (Excel drops it: ``511`` → ``"0511"``). Raises ``ValueError`` with a
    Chinese message.
    """
    compact = "".join(unicodedata.normalize("NFKC", text).split()).upper()
    match = _INDUSTRY_CODE_RE.fullmatch(compact)
    if match is None:
        raise ValueError(f"行业代码“{text.strip()}”无法识别：应为国民经济行业小类代码，如“6513”或“I6513”")
    letter, code = match.group(1), match.group(2).zfill(4)
    section = SECTION_OF_DIVISION.get(code[:2])
    if section is None:
        raise ValueError(f"行业代码“{text.strip()}”无法识别：行业大类“{code[:2]}”不存在（应为 01–97）")
    if letter and letter != section:
        raise ValueError(f"行业代码“{text.strip()}”的门类字母不符：大类“{code[:2]}”属于门类“{section}”")
    return code


# --- reading an uploaded register ----------------------------------------------------------------------------

# Column header → attribute name. The first two are required. Money columns marked （万元） are in
# 万元 and stored in 元; 注册资本 and 实缴资本 are capital texts (``parse_capital``).
COLUMNS: dict[str, str] = {
    "统一社会信用代码": "uscc",
    "企业名称": "name",
    "注册地所在区": "district",
    "所在街道": "subdistrict",
    "税务征管关系所在区": "tax_district",
    "统计关系所在区": "stats_district",
    "行业代码": "industry_code",
    "企业类型": "enterprise_type",
    "外商投资企业": "foreign_invested",
    "成立日期": "established_on",
    "落户日期": "settled_on",
    "上市日期": "listed_on",
    "小巨人认定日期": "little_giant_on",
    "注册资本": "registered_capital",
    "实缴资本": "paid_in_capital",
    "从业人数": "employees",
    "各月参保人数": "insured_employees_monthly",
    "上年度营业收入（万元）": "revenue",
    "前年营业收入（万元）": "revenue_prev",
    "上年度纳税总额（万元）": "tax_paid",
    "上年度对区贡献（万元）": "district_contribution",
    "上年度研发费用（万元）": "rd_expense",
    "企业标签": "tags",
    "信用状况": "credit_status",
}
REQUIRED_COLUMNS: tuple[str, ...] = ("统一社会信用代码", "企业名称")
# Other spellings seen in registers, each meaning the same column (and the same unit) as its target.
COLUMN_ALIASES: dict[str, str] = {
    "注册地所在街道": "所在街道",
    "所属街道": "所在街道",
    "落户越秀日期": "落户日期",
    "是否外商投资企业": "外商投资企业",
    "国民经济行业代码": "行业代码",
    "行业小类代码": "行业代码",
    "各月社保参保人数": "各月参保人数",
    "专精特新小巨人认定日期": "小巨人认定日期",
    "小巨人首次认定日期": "小巨人认定日期",
}
_WAN_COLUMNS = frozenset({"revenue", "revenue_prev", "tax_paid", "district_contribution", "rd_expense"})
_DATE_COLUMNS = frozenset({"established_on", "settled_on", "listed_on", "little_giant_on"})
_TEXT_COLUMNS = frozenset({"enterprise_type"})
_DISTRICT_COLUMNS = frozenset({"district", "tax_district", "stats_district"})

MAX_NAME_LENGTH = 200
# Longest text a column may hold (the lengths of the stored registry fields).
MAX_TEXT_LENGTHS: dict[str, int] = {
    "district": 20,
    "subdistrict": 20,
    "tax_district": 20,
    "stats_district": 20,
    "enterprise_type": 40,
}

_DATE_RE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_COMPACT_DATE_RE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_THOUSANDS_RE = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_LIST_SEPARATORS_RE = re.compile(r"[、,;；\s]+")  # after NFKC, "，" is ","
_TRUE_TEXTS = frozenset({"是", "Y", "YES", "TRUE", "1", "√"})
_FALSE_TEXTS = frozenset({"否", "N", "NO", "FALSE", "0", "×"})


@dataclass(frozen=True)
class RowError:
    """A problem in one cell. ``row``: the row number shown in Excel; ``column``: the header as written in
    the file; ``message``: Chinese, what is wrong and how to fix it."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"第 {self.row} 行“{self.column}”：{self.message}"


@dataclass(frozen=True)
class NameClash:
    """Several USCCs under one (normalised) enterprise name: a warning, not an error.

    ``name``: the name as written in the first row; ``usccs``: the distinct codes, in file order (for a
    clash with the database, the stored code first); ``rows``: the file rows carrying that name.
    """

    name: str
    usccs: tuple[str, ...]
    rows: tuple[int, ...]

    @property
    def message(self) -> str:
        rows = "、".join(str(row) for row in self.rows)
        return f"企业名称“{self.name}”对应多个统一社会信用代码（{'、'.join(self.usccs)}，第 {rows} 行）：请核对是否填错"


@dataclass
class RegistryImport:
    """What ``read_registry`` read.

    ``rows``: the rows without errors, as row dicts (see the module docstring), in file order;
    ``row_numbers``: their Excel row numbers, parallel to ``rows``; ``errors``: every problem of every
    row (the caller imports nothing while this is not empty); ``name_clashes``: warnings;
    ``columns``: the attribute names the file has a column for (the others are ``None`` in every row);
    ``ignored_columns``: headers that are not registry columns, as written.
    """

    rows: list[Row] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    name_clashes: list[NameClash] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


def normalise_name(name: str) -> str:
    """The key two enterprise names are compared on: NFKC (full-width brackets and letters to
    half-width), no whitespace, case-folded. ``"广州 ABC 有限公司（越秀）"`` → ``"广州abc有限公司(越秀)"``."""
    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()


def _header_key(header: str) -> str:
    return "".join(unicodedata.normalize("NFKC", header).split())


_HEADER_LOOKUP: dict[str, str] = {_header_key(header): header for header in COLUMNS} | {
    _header_key(alias): target for alias, target in COLUMN_ALIASES.items()
}


def read_registry(data: bytes, *, max_rows: int = 100_000) -> RegistryImport:
    """Read an uploaded register (xlsx, or CSV in UTF-8, UTF-8 with BOM or GB18030).

    Headers are matched on ``COLUMNS`` and ``COLUMN_ALIASES`` (full-width or half-width brackets, spaces
    ignored); other columns are listed in ``ignored_columns``. Every cell is checked and every problem
    reported as a ``RowError``; a USCC found on an earlier row is an error on the later row; names shared
    by different USCCs are ``name_clashes``. Money columns in 万元 are converted to 元 exactly (at most
    six decimals). Raises ``TableError`` (Chinese ``message``) for a file that cannot be read as a table,
    a missing required column, two columns meaning the same attribute, or more than ``max_rows`` rows.
    """
    table = read_table(data, max_rows=max_rows)
    columns: dict[str, str] = {}  # header as written → attribute
    seen: dict[str, str] = {}  # attribute → header as written
    ignored: list[str] = []
    for header in table.header:
        canonical = _HEADER_LOOKUP.get(_header_key(header))
        if canonical is None:
            ignored.append(header)
            continue
        attribute = COLUMNS[canonical]
        if attribute in seen:
            raise TableError(f"“{seen[attribute]}”和“{header}”是同一列，请删除其中一列。")
        seen[attribute] = header
        columns[header] = attribute
    missing = [header for header in REQUIRED_COLUMNS if COLUMNS[header] not in seen]
    if missing:
        raise TableError(f"缺少必填列：{'、'.join(missing)}")

    result = RegistryImport(columns=[a for a in ATTRIBUTES if a in seen], ignored_columns=ignored)
    first_row_of: dict[str, int] = {}
    named: list[tuple[int, str, str]] = []  # (row, uscc, name) for the name-clash check
    for table_row in table.rows:
        row, errors = _parse_row(table_row.number, table_row.values, columns, seen)
        uscc = row["uscc"]
        if uscc is not None:
            if uscc in first_row_of:
                errors.append(
                    RowError(
                        table_row.number,
                        seen["uscc"],
                        f"统一社会信用代码“{uscc}”与第 {first_row_of[uscc]} 行重复：同一企业只能有一行",
                    )
                )
            else:
                first_row_of[uscc] = table_row.number
            if row["name"] is not None:
                named.append((table_row.number, uscc, row["name"]))
        if errors:
            result.errors.extend(errors)
        else:
            result.rows.append(row)
            result.row_numbers.append(table_row.number)
    result.name_clashes = _name_clashes(named)
    return result


def name_clashes_with(
    existing: Mapping[str, str], imported: RegistryImport | Sequence[Mapping[str, Any]]
) -> list[NameClash]:
    """Clashes between imported rows and enterprises already stored.

    ``existing`` maps the names of stored enterprises (as stored, or already ``normalise_name``-d) to
    their USCC. ``imported`` is what ``read_registry`` returned, or just its ``rows``. A row whose
    normalised name is stored under a different USCC is a clash: ``NameClash(name as in the file,
    (stored USCC, file USCCs…), file rows)``, one per name, in file order; ``rows`` is empty when only
    the rows were passed (their file row numbers are unknown). A row with the stored USCC is an
    update, not a clash.
    """
    if isinstance(imported, RegistryImport):
        numbered: list[tuple[int | None, Mapping[str, Any]]] = list(
            zip(imported.row_numbers, imported.rows, strict=True)
        )
    else:
        numbered = [(None, row) for row in imported]
    stored_by_name = {normalise_name(name): uscc for name, uscc in existing.items()}
    groups: dict[str, tuple[str, list[str], list[int]]] = {}
    for number, row in numbered:
        key = normalise_name(row["name"])
        stored = stored_by_name.get(key)
        if stored is None or stored == row["uscc"]:
            continue
        _, usccs, rows = groups.setdefault(key, (row["name"], [stored], []))
        if row["uscc"] not in usccs:
            usccs.append(row["uscc"])
        if number is not None:
            rows.append(number)
    return [NameClash(name, tuple(usccs), tuple(rows)) for name, usccs, rows in groups.values()]


def _name_clashes(named: Sequence[tuple[int, str, str]]) -> list[NameClash]:
    groups: dict[str, tuple[str, list[str], list[int]]] = {}
    for number, uscc, name in named:
        _, usccs, rows = groups.setdefault(normalise_name(name), (name, [], []))
        if uscc not in usccs:
            usccs.append(uscc)
        rows.append(number)
    return [NameClash(name, tuple(usccs), tuple(rows)) for name, usccs, rows in groups.values() if len(usccs) > 1]


def _parse_row(
    number: int, values: Mapping[str, str], columns: Mapping[str, str], headers: Mapping[str, str]
) -> tuple[Row, list[RowError]]:
    """Parse one table row: ``(row dict, errors)``; a cell with an error leaves its attribute ``None``."""
    row: Row = dict.fromkeys(ROW_FIELDS)
    row["is_synthetic"] = False
    errors: list[RowError] = []
    currencies: dict[str, str] = {}
    for header, attribute in columns.items():
        text = strip_formula_guard(values.get(header, ""))
        try:
            if attribute in ("registered_capital", "paid_in_capital"):
                amount, currency = parse_capital(text, label=header)
                row[attribute] = amount
                if currency is not None:
                    currencies[attribute] = currency
            else:
                row[attribute] = _parse_cell(attribute, text)
        except ValueError as error:
            errors.append(RowError(number, header, str(error)))

    registered, paid_in = currencies.get("registered_capital"), currencies.get("paid_in_capital")
    row["capital_currency"] = registered or paid_in
    if registered and paid_in and registered != paid_in:
        errors.append(
            RowError(
                number,
                headers["paid_in_capital"],
                f"实缴资本的币种（{CURRENCY_NAMES[paid_in]}）与注册资本的币种（{CURRENCY_NAMES[registered]}）不一致",
            )
        )
    established = row["established_on"]
    later_dates = (("settled_on", "落户日期"), ("listed_on", "上市日期"), ("little_giant_on", "小巨人认定日期"))
    for attribute, what in later_dates:
        later = row[attribute]
        if established is not None and later is not None and later < established:
            errors.append(
                RowError(number, headers[attribute], f"{what}（{later:%Y-%m-%d}）早于成立日期（{established}）")
            )
    subdistrict = row["subdistrict"]
    if subdistrict is not None and row["district"] == YUEXIU and subdistrict not in YUEXIU_SUBDISTRICTS:
        errors.append(
            RowError(
                number,
                headers["subdistrict"],
                f"“{subdistrict}”不是越秀区的街道（越秀区的街道：{'、'.join(YUEXIU_SUBDISTRICTS)}）",
            )
        )
    return row, errors


def _parse_cell(attribute: str, text: str) -> object:
    """The value of one cell of ``attribute``; raises ``ValueError`` with a Chinese message."""
    if attribute == "uscc":
        return normalise_uscc(text)
    if attribute == "name":
        name = text.strip()
        if not name:
            raise ValueError("企业名称不能为空")
        if len(name) > MAX_NAME_LENGTH:
            raise ValueError(f"企业名称过长：最多 {MAX_NAME_LENGTH} 个字")
        return name
    if attribute == "tags":
        return _parse_tags(text)
    if attribute == "credit_status":
        return _parse_credit_status(text)
    cleaned = unicodedata.normalize("NFKC", text).strip()
    if cleaned.upper() in BLANK_MARKERS:
        return None
    if attribute in _TEXT_COLUMNS:
        return _limited(attribute, text.strip())
    if attribute in _DISTRICT_COLUMNS:
        return _limited(attribute, _normalise_district(cleaned))
    if attribute == "subdistrict":
        return _limited(attribute, _normalise_subdistrict(cleaned))
    if attribute == "industry_code":
        return parse_industry_code(cleaned)
    if attribute == "foreign_invested":
        return _parse_bool(cleaned)
    if attribute in _DATE_COLUMNS:
        return _parse_date(cleaned)
    if attribute == "employees":
        return _parse_count(cleaned, "从业人数")
    if attribute == "insured_employees_monthly":
        return _parse_monthly(cleaned)
    if attribute in _WAN_COLUMNS:
        return wan_to_yuan(cleaned)
    raise AssertionError(f"no parser for {attribute}")


def _limited(attribute: str, text: str) -> str:
    limit = MAX_TEXT_LENGTHS[attribute]
    if len(text) > limit:
        raise ValueError(f"“{text}”过长：最多 {limit} 个字")
    return text


def wan_to_yuan(text: str) -> Decimal:
    """An amount of a column in 万元 as ``Decimal`` 元 with two decimals: ``"123.4567"`` →
    ``Decimal("1234567.00")``. A bare number is in 万元 (the column says so); a unit written in the
    cell wins (``"12万元"``, ``"1,234,567元"``, ``"1.2亿元"``). Read by the platform's one money reader
    (``yuexiu.core.money``); raises its ``MoneyError`` (a ``ValueError``, Chinese) for text that is not
    one amount, a negative amount, an amount finer than a cent or of 10^16 元 and more.
    """
    amount, _ = read_money(text, unit="万元", example="123.45", maximum=MAX_AMOUNT, any_currency=False)
    if amount is None:
        raise MoneyError(f"无法识别金额“{text.strip()}”：请填写以万元为单位的数字，如“123.45”", text)
    return amount


def _normalise_district(text: str) -> str:
    """``"越秀"``, ``"广州市越秀区"`` → ``"越秀区"``; a district outside 广州 is kept as written."""
    compact = "".join(text.split())
    short = compact.removeprefix("广东省").removeprefix("广州市")
    for candidate in (short, short + "区"):
        if candidate in GUANGZHOU_DISTRICTS:
            return candidate
    return compact


def _normalise_subdistrict(text: str) -> str:
    """``"洪桥街"``, ``"洪桥"`` → ``"洪桥街道"``; other text kept as written."""
    compact = "".join(text.split())
    for candidate in (compact, compact + "道", compact + "街道"):
        if candidate in YUEXIU_SUBDISTRICTS:
            return candidate
    return compact


def _parse_bool(text: str) -> bool:
    value = text.upper()
    if value in _TRUE_TEXTS:
        return True
    if value in _FALSE_TEXTS:
        return False
    raise ValueError(f"“{text}”无法识别：请填写“是”或“否”")


def _parse_date(text: str) -> date:
    match = _DATE_RE.fullmatch(text) or _COMPACT_DATE_RE.fullmatch(text)
    if match is None:
        raise ValueError(f"日期“{text}”无法识别：应为“2020-01-31”这样的日期")
    year, month, day = (int(part) for part in match.groups())
    if not 1900 <= year <= 2100:
        raise ValueError(f"日期“{text}”的年份不合理")
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"日期“{text}”不存在：请核对月份和日期") from None


def _parse_count(text: str, what: str) -> int:
    cleaned = _THOUSANDS_RE.sub("", text).removesuffix("人").strip()
    if not cleaned.isdigit() or not cleaned.isascii():
        raise ValueError(f"{what}“{text}”应为不小于0的整数")
    if len(cleaned) > 8 or int(cleaned) > MAX_PEOPLE:
        raise ValueError(f"{what}“{text}”过大（不超过 {MAX_PEOPLE:,} 人）")
    return int(cleaned)


MAX_PEOPLE = 10_000_000  # far above any enterprise's workforce; keeps the engine's INTEGER columns safe


def _parse_monthly(text: str) -> list[int]:
    parts = [part for part in _LIST_SEPARATORS_RE.split(text) if part]
    if len(parts) != 12:
        raise ValueError(f"各月参保人数应为1至12月共12个整数，用逗号或顿号分隔，现有 {len(parts)} 个")
    return [_parse_count(part, f"{month}月参保人数") for month, part in enumerate(parts, start=1)]


def _parse_tags(text: str) -> list[str]:
    """Tags separated by 、，,;；: returned without duplicates, in ``TAGS`` order. Empty → ``[]``."""
    cleaned = unicodedata.normalize("NFKC", text).strip()
    if cleaned.upper() in BLANK_MARKERS:
        return []
    given = {part for part in _LIST_SEPARATORS_RE.split(cleaned) if part}
    unknown = sorted(given.difference(TAGS))
    if unknown:
        raise ValueError(f"未知的企业标签：{'、'.join(unknown)}（可用：{'、'.join(TAGS)}）")
    return [tag for tag in TAGS if tag in given]


def _parse_credit_status(text: str) -> str:
    """``""`` → ``"良好"`` (no record of dishonesty); otherwise one of ``CREDIT_STATUSES``."""
    cleaned = "".join(text.split())
    if not cleaned:
        return CREDIT_STATUSES[0]
    if cleaned not in CREDIT_STATUSES:
        raise ValueError(f"信用状况“{cleaned}”无法识别：应为{'、'.join(CREDIT_STATUSES)}之一，空白表示良好")
    return cleaned


# --- synthetic register --------------------------------------------------------------------------------------

SYNTHETIC_SUFFIX = "（模拟）"
YUEXIU_SHARE = 0.85
# Characters of the 字号 (trade name): three of them, from a bijection of the row index, so names
# are unique within one generation of up to len(_BRAND_CHARACTERS) ** 3 rows.
_BRAND_CHARACTERS = (
    "鑫华泰恒盛达丰源利德信诚安康宏远嘉瑞祥和正通新创科智博海天宇金富明光星辰云峰越秀穗粤南东方中汇聚联"
    "合众兴旺隆昌荣发辉耀腾飞龙凤骏驰宁雅致品尚优佳美乐欣悦怡禾林森淼鼎晟晖煜烨琦璟瑜瑾琪珑玥璞钰锦绣"
    "彩虹霞晨曦朗润泽沛涵澜泓湘江河湖洲山岳川原野田园春夏秋松柏竹梅兰菊桂棠荷莲芷蓝青碧翠紫红橙万千百"
    "永长久立志成伟业骐骥鹏程锐进道启开拓卓精英诺"
)
assert len(set(_BRAND_CHARACTERS)) == len(_BRAND_CHARACTERS), "a repeated character would repeat names"
MAX_SYNTHETIC_ROWS = len(_BRAND_CHARACTERS) ** 3

# Share of enterprises by division (大类), roughly a central urban district: trade, business services,
# software, finance and real estate; little manufacturing. Divisions not listed get no enterprise.
_DIVISION_WEIGHTS: dict[str, float] = {
    "14": 0.3, "18": 0.4, "23": 0.3, "24": 0.3, "26": 0.3, "27": 0.3, "35": 0.2, "39": 0.3,
    "44": 0.1, "47": 1.0, "49": 0.8, "50": 2.0,
    "51": 16.0, "52": 14.0, "58": 1.5, "60": 0.5, "61": 0.8, "62": 5.5,
    "64": 3.0, "65": 8.0, "66": 0.2, "67": 0.8, "68": 0.25, "69": 0.5, "70": 4.5,
    "72": 20.0, "73": 1.5, "74": 2.5, "75": 4.0,
    "80": 3.0, "83": 2.0, "84": 1.5, "86": 0.5, "87": 1.0, "88": 1.0, "89": 0.8, "90": 0.4,
}  # fmt: skip
# Classes more common than their division siblings.
_CLASS_MULTIPLIERS: dict[str, float] = {
    "5199": 3.0, "5176": 1.5, "5292": 2.5, "5232": 1.5, "6210": 2.0, "6220": 1.5, "6513": 3.0,
    "6560": 1.5, "7212": 2.0, "7243": 2.5, "7299": 3.0, "7259": 1.5, "7519": 3.0, "7030": 2.0,
    "7020": 1.5, "8040": 2.0,
}  # fmt: skip

# Per division: (median 营业收入 per employee in 元, tax paid as a share of revenue, technology
# propensity 0–1, shift of the log of employees). Synthetic orders of magnitude, not statistics.
_DIVISION_PROFILES: dict[str, tuple[float, float, float, float]] = {
    "14": (240_000, 0.04, 0.1, 0.8), "18": (210_000, 0.03, 0.05, 0.8), "23": (210_000, 0.04, 0.1, 0.6),
    "24": (480_000, 0.03, 0.05, 0.4), "26": (360_000, 0.05, 0.4, 0.6), "27": (480_000, 0.06, 0.8, 1.0),
    "35": (360_000, 0.05, 0.8, 0.8), "39": (480_000, 0.04, 0.8, 1.0), "44": (1_200_000, 0.06, 0.1, 1.2),
    "47": (300_000, 0.03, 0.03, 0.6), "49": (270_000, 0.03, 0.05, 0.4), "50": (210_000, 0.03, 0.02, 0.2),
    "51": (600_000, 0.012, 0.02, 0.0), "52": (210_000, 0.02, 0.01, 0.0), "58": (360_000, 0.015, 0.02, 0.0),
    "60": (150_000, 0.03, 0.0, 0.5), "61": (120_000, 0.05, 0.0, 0.5), "62": (90_000, 0.03, 0.0, 0.3),
    "64": (210_000, 0.04, 0.7, 0.0), "65": (180_000, 0.04, 0.9, 0.2), "66": (1_200_000, 0.12, 0.0, 0.8),
    "67": (600_000, 0.10, 0.0, 0.0), "68": (900_000, 0.08, 0.0, 0.8), "69": (480_000, 0.08, 0.05, 0.0),
    "70": (420_000, 0.08, 0.0, 0.0), "72": (180_000, 0.04, 0.03, 0.0), "73": (150_000, 0.03, 0.9, 0.0),
    "74": (150_000, 0.04, 0.5, 0.0), "75": (120_000, 0.035, 0.6, -0.2), "80": (72_000, 0.03, 0.0, 0.0),
    "83": (90_000, 0.03, 0.02, 0.0), "84": (180_000, 0.02, 0.1, 0.5), "86": (180_000, 0.04, 0.2, 0.0),
    "87": (180_000, 0.04, 0.1, 0.0), "88": (120_000, 0.03, 0.05, 0.0), "89": (120_000, 0.03, 0.0, 0.0),
    "90": (150_000, 0.05, 0.0, 0.0),
}  # fmt: skip
_CLASS_REVENUE_PER_EMPLOYEE: dict[str, float] = {"7020": 100_000, "7040": 400_000, "7211": 800_000}

# Words between the 字号 and the legal form, by class code or division.
_NAME_WORDS: dict[str, tuple[str, ...]] = {
    "14": ("食品",), "18": ("服饰", "制衣"), "23": ("印务", "印刷"), "24": ("珠宝", "首饰"),
    "26": ("化妆品", "日化"), "27": ("医药", "生物医药", "制药"), "35": ("医疗器械", "医疗科技"),
    "39": ("电子科技", "通信设备", "微电子"), "44": ("电力", "供电服务"), "47": ("建设工程", "建筑工程"),
    "49": ("机电安装工程", "电气工程"), "50": ("装饰工程", "建筑装饰设计工程"),
    "51": ("贸易", "商贸", "进出口贸易", "供应链"), "52": ("商业", "商贸", "百货", "零售"),
    "58": ("国际货运代理", "物流"), "5822": ("票务代理", "航空服务"), "60": ("快递", "速递"),
    "61": ("酒店", "酒店管理", "宾馆"), "62": ("餐饮", "餐饮管理", "饮食"),
    "64": ("网络科技", "互联网科技", "数字科技"),
    "65": ("信息科技", "软件科技", "信息技术", "数据科技", "智能科技"),
    "6621": ("银行",), "6631": ("融资租赁",), "6632": ("集团财务",), "6633": ("典当行",), "6635": ("小额贷款",),
    "6712": ("证券",), "6720": ("基金管理",), "6731": ("创业投资",), "6739": ("股权投资", "私募基金管理"),
    "6749": ("期货",), "6760": ("资本管理", "投资"), "6811": ("人寿保险",), "6820": ("财产保险",),
    "6852": ("保险代理",), "6911": ("信托",), "6920": ("控股", "投资控股"), "6930": ("支付", "网络支付"),
    "6940": ("金融信息服务",), "7010": ("房地产开发", "置业"), "7020": ("物业管理", "物业服务"),
    "7030": ("房地产代理", "地产中介"), "7040": ("物业租赁", "房屋租赁"), "7211": ("企业管理", "实业"),
    "7212": ("投资管理", "资产管理"), "7222": ("商业管理",), "7224": ("供应链管理",), "7231": ("法律咨询",),
    "7241": ("财税咨询", "会计服务"), "7243": ("企业管理咨询", "咨询"), "7251": ("网络广告", "广告"),
    "7259": ("广告", "文化传播"), "7262": ("人力资源", "人才服务"), "7263": ("劳务派遣", "人力资源"),
    "7281": ("会展服务", "展览"), "7284": ("文化会展", "展览服务"), "7291": ("国际旅行社", "旅行社"),
    "7295": ("信用管理", "征信服务"), "7297": ("商务服务", "代理服务"), "7299": ("商务服务", "企业服务"),
    "73": ("科学研究", "技术研究"), "7340": ("医学研究", "生物医药研究"), "7350": ("社会经济研究",),
    "7452": ("检测技术", "检验检测"), "7484": ("工程设计", "建筑设计"), "7491": ("工业设计",),
    "7492": ("设计", "创意设计"), "75": ("科技", "技术服务", "科技发展"), "7512": ("生物科技",),
    "7520": ("知识产权代理", "知识产权服务"), "7530": ("科技服务",), "7540": ("众创空间管理", "孵化器管理"),
    "8010": ("家政服务",), "8040": ("美容美发", "美容"), "8053": ("养生", "健康管理"),
    "8391": ("职业培训", "教育科技"), "8393": ("艺术培训", "文化艺术"), "8394": ("教育咨询", "教育科技"),
    "8411": ("医院",), "8415": ("专科医院", "口腔医院", "眼科医院"), "8425": ("门诊部", "诊所"),
    "8491": ("健康体检", "健康管理"), "8492": ("医学检验", "医学检验实验室"), "8621": ("图书", "出版"),
    "8626": ("数字出版", "数字传媒"), "8730": ("影视文化", "影视传媒"), "8760": ("影城", "影院管理"),
    "8810": ("文化艺术", "演艺"), "8930": ("健身", "体育发展"), "9011": ("娱乐",),
}  # fmt: skip

# Medium-enterprise thresholds of 工信部联企业〔2011〕300号 (中小企业划型标准规定), by division:
# (employees, revenue in 元); an enterprise below either threshold is small or micro (小微企业). ``None``
# where the standard uses total assets instead (not generated). Finance has its own standard: no tag.
_MEDIUM_THRESHOLDS: dict[str, tuple[int | None, int | None]] = {
    **dict.fromkeys(("14", "18", "23", "24", "26", "27", "35", "39", "44"), (300, 20_000_000)),
    **dict.fromkeys(("47", "49", "50"), (None, 60_000_000)),
    "51": (20, 50_000_000),
    "52": (50, 5_000_000),
    "58": (300, 30_000_000),
    "60": (300, 20_000_000),
    "61": (100, 20_000_000),
    "62": (100, 20_000_000),
    "64": (100, 10_000_000),
    "65": (100, 10_000_000),
    "70": (None, 10_000_000),
    "7020": (300, 10_000_000),
}
_OTHER_MEDIUM_THRESHOLD: tuple[int | None, int | None] = (100, None)

# 规模以上 / 限额以上 thresholds on 营业收入 (元), after the 国家统计局 statistical standards: 规上工业
# 2000万; 限上批发 2000万, 零售 500万, 住宿餐饮 200万; 规上服务业 2000万 (transport, information,
# health), 1000万 (business services, R&D, education, real estate other than development), 500万
# (resident services, culture and sports). Construction and real estate development count when they
# hold a qualification; the generator uses 2000万 as a stand-in. Finance is not in these statistics.
_SCALE_THRESHOLDS: dict[str, tuple[str, int]] = {
    **dict.fromkeys(("14", "18", "23", "24", "26", "27", "35", "39", "44"), ("规模以上企业", 20_000_000)),
    **dict.fromkeys(("47", "49", "50", "7010"), ("规模以上企业", 20_000_000)),
    "51": ("限额以上批发零售企业", 20_000_000),
    "52": ("限额以上批发零售企业", 5_000_000),
    "61": ("限额以上住宿餐饮企业", 2_000_000),
    "62": ("限额以上住宿餐饮企业", 2_000_000),
    **dict.fromkeys(("58", "60", "64", "65", "84"), ("规模以上企业", 20_000_000)),
    **dict.fromkeys(("72", "73", "74", "75", "83", "70"), ("规模以上企业", 10_000_000)),
    **dict.fromkeys(("80", "86", "87", "88", "89", "90"), ("规模以上企业", 5_000_000)),
}
# Share of enterprises of a class that hold a financial licence (持牌金融机构).
_LICENSED_SHARES: dict[str, float] = {
    "6621": 1.0, "6631": 0.3, "6632": 1.0, "6633": 0.8, "6635": 0.8, "6712": 0.6, "6720": 0.8,
    "6749": 0.5, "6811": 0.8, "6820": 0.8, "6852": 0.5, "6911": 1.0, "6930": 0.2,
}  # fmt: skip
_CULTURE_CLASSES = frozenset({"2311", "6572", "7251", "7259", "7284", "8393"})
_HEALTH_CLASSES = frozenset({"2720", "2740", "2761", "3581", "5151", "5154", "5251", "7340"})

_OTHER_DISTRICT_WEIGHTS: dict[str, float] = {
    "天河区": 30, "海珠区": 15, "荔湾区": 10, "白云区": 15, "黄埔区": 8, "番禺区": 10,
    "花都区": 4, "南沙区": 5, "从化区": 1, "增城区": 2,
}  # fmt: skip
# The commercial subdistricts (东山, 农林, 梅花村, 建设, 黄花岗…) hold more enterprises.
_SUBDISTRICT_WEIGHTS: tuple[float, ...] = (6, 8, 5, 7, 5, 7, 9, 9, 8, 7, 5, 8, 5, 4, 6, 3, 3, 5)

_DOMESTIC_TYPES: tuple[tuple[str, float], ...] = (
    ("有限责任公司（自然人投资或控股）", 45),
    ("有限责任公司（自然人独资）", 25),
    ("有限责任公司（法人独资）", 8),
    ("其他有限责任公司", 4),
    ("有限责任公司分公司（自然人投资或控股）", 5),
    ("股份有限公司（非上市、自然人投资或控股）", 2),
    ("个人独资企业", 6),
    ("有限责任公司（国有独资）", 0.5),
)
_FOREIGN_TYPES: tuple[tuple[str, float], ...] = (
    ("有限责任公司（台港澳法人独资）", 40),
    ("有限责任公司（外国法人独资）", 30),
    ("有限责任公司（台港澳与境内合资）", 15),
    ("有限责任公司（中外合资）", 10),
    ("外商投资企业分公司", 5),
)
_FOREIGN_CURRENCIES: tuple[tuple[str, float], ...] = (
    ("HKD", 55),
    ("USD", 28),
    ("CNY", 10),
    ("EUR", 3),
    ("GBP", 1.5),
    ("JPY", 1),
    ("MOP", 1),
    ("TWD", 0.5),
)
# Registered capital in units of 10 000 of the currency (万元): the usual round amounts.
_CAPITAL_TEN_THOUSANDS: tuple[int, ...] = (
    1, 3, 5, 10, 20, 30, 50, 100, 200, 300, 500, 800, 1000, 2000, 3000, 5000, 10000, 20000, 50000, 100000, 300000,
)  # fmt: skip
_CAPITAL_SCALE = {"JPY": 15, "TWD": 4}  # these currencies are registered in larger numbers

_MONTH_PATTERNS = 256
_DORMANT_SHARE = 0.15  # registered but without revenue
# Employees: 5% none, 3.5% from a Pareto tail (from 30 people, exponent 1.05), the rest log-normal.
_TAIL_SHARE = 0.035
_TAIL_FROM = 30
_TAIL_EXPONENT = -1 / 1.05
_FIRST_YEAR = 1990
_SUBSCRIBED_CAPITAL_REFORM = date(2014, 3, 1)  # 注册资本认缴登记制 from 2014-03-01
_MA_CODES_FROM = date(2015, 10, 1)  # new registrations get an organisation code "MA…" (三证合一)
_FIRST_LITTLE_GIANTS = date(2019, 6, 1)  # the first national 专精特新"小巨人" list (2019), approximately


class _Profile:
    """What the generator needs to know about one industry class, computed once."""

    __slots__ = (
        "code", "division", "section", "revenue_per_employee", "tax_rate", "tech", "size_shift", "words",
        "medium_employees", "medium_revenue", "small_applies", "scale_tag", "scale_revenue", "licensed_share",
        "foreign_share", "culture", "software", "health", "consumer",
    )  # fmt: skip

    def __init__(self, industry: Industry) -> None:
        code, division = industry.code, industry.code[:2]
        self.code = code
        self.division = division
        self.section = industry.section
        revenue, self.tax_rate, self.tech, self.size_shift = _DIVISION_PROFILES[division]
        self.revenue_per_employee = _CLASS_REVENUE_PER_EMPLOYEE.get(code, revenue)
        self.words = _NAME_WORDS.get(code) or _NAME_WORDS.get(division) or ("实业",)
        medium = _MEDIUM_THRESHOLDS.get(code) or _MEDIUM_THRESHOLDS.get(division) or _OTHER_MEDIUM_THRESHOLD
        self.medium_employees, self.medium_revenue = medium
        self.small_applies = industry.section != "J"
        scale = _SCALE_THRESHOLDS.get(code) or _SCALE_THRESHOLDS.get(division)
        self.scale_tag, self.scale_revenue = scale if scale else (None, 0)
        self.licensed_share = _LICENSED_SHARES.get(code, 0.0)
        self.foreign_share = 0.10 if industry.section in "CJ" else 0.08 if division in ("52", "62", "72") else 0.04
        self.culture = industry.section == "R" or code in _CULTURE_CLASSES
        self.software = division == "65"
        self.health = code in _HEALTH_CLASSES or division == "84" or code.startswith("358")
        self.consumer = division in ("52", "62")


def _cumulative(weights: Sequence[float]) -> tuple[list[float], float]:
    totals: list[float] = []
    total = 0.0
    for weight in weights:
        total += weight
        totals.append(total)
    return totals, total


def _coprime_multiplier(rng: random.Random, modulus: int) -> int:
    multiplier = rng.randrange(modulus // 3, modulus)
    while math.gcd(multiplier, modulus) != 1:
        multiplier += 1
    return multiplier


def _base_digits(value: int, alphabet: str, width: int) -> str:
    base = len(alphabet)
    characters = []
    for _ in range(width):
        value, digit = divmod(value, base)
        characters.append(alphabet[digit])
    return "".join(reversed(characters))


def _money(cents: int) -> Decimal:
    """``123456`` cents → ``Decimal("1234.56")``: always two decimals."""
    return Decimal(cents).scaleb(-2)


def generate_synthetic(n: int, *, seed: int = 2024, year: int = 2025) -> Iterator[Row]:
    """Yield ``n`` synthetic enterprises (row dicts, see the module docstring), for demos and benchmarks.

    Deterministic for ``(seed, year)``, and the first rows do not depend on ``n``. Every row has
    ``is_synthetic=True`` and a name ending in "（模拟）". ``year`` is the year of the snapshot: dates
    fall in 1990-01-01…``year``-12-31; 上年度 figures (revenue, tax, R&D, monthly insured employees) are
    for ``year - 1`` and ``None`` for an enterprise established in ``year``; ``revenue_prev`` is for
    ``year - 2``.

    - 85% registered in 越秀区 (18 subdistricts, commercial ones weighted up), the rest in other
      广州 districts (subdistrict ``None``); USCC ``91`` + the district's division code + a unique
      organisation code (8 digits before 2015-10, ``MA…`` after, GB 11714 check digit) + the GB 32100
      check digit. Tax and statistics districts equal the registration district about 94% and 95% of
      the time. ``settled_on`` is set for 越秀区 only.
    - Industry: the classes of ``data/industries.csv``, weighted like a central urban district.
    - Size: employees 5% zero, 91.5% log-normal (median 3), 3.5% from a Pareto tail starting at 30
      people (about 0.4% have 300 or more, 0.1% 1000 or more; capped at 80 000); mean about 15.
      Revenue = employees × an industry figure × log-normal noise (σ 1.0); about 18% report zero
      (dormant); revenue_prev = revenue / growth (median +5%); tax ≈ 1–12% of revenue by industry;
      district contribution 15–35% of tax when the tax district is 越秀区, else 0; R&D 3–12% of revenue
      for tagged technology firms, mostly 0 otherwise. Sampling uses floats; every amount is rounded
      to whole cents before it becomes a ``Decimal``.
    - Tags follow size and industry (高新技术企业 ≈ 3%, 专精特新中小企业 ≈ 1%, 专精特新小巨人 ≈ 0.1%,
      总部企业 ≈ 0.3%, the statistical 规上/限上 thresholds, 小微企业 by the 2011 size standard…).
      A 专精特新小巨人 has ``little_giant_on``, its first recognition, between a year after it was
      set up (not before the first national list, June 2019; a younger one: the end of ``year``) and
      the end of ``year``; others ``None`` (and every one for a ``year`` before 2019).
    - credit_status: 良好 96.5%, 一般失信 3%, 严重失信 0.5%. Foreign-invested (about 5%) register in
      HKD, USD, … or CNY; paid-in capital is 0 for about half the enterprises set up since 2014-03.

    Raises ``ValueError`` (at the call, not at the first row) for ``n`` below 0 or above
    ``MAX_SYNTHETIC_ROWS``, or a ``year`` outside 2000–2100.
    """
    if not 0 <= n <= MAX_SYNTHETIC_ROWS:
        raise ValueError(f"n must be between 0 and {MAX_SYNTHETIC_ROWS}")
    if not 2000 <= year <= 2100:
        raise ValueError("year must be between 2000 and 2100")
    return _generate(n, seed, year)


def _generate(n: int, seed: int, year: int) -> Iterator[Row]:
    rng = random.Random(seed)
    rand, gauss, exp = rng.random, rng.gauss, math.exp

    profiles = [_Profile(industry) for industry in load_industries().values() if industry.code[:2] in _DIVISION_WEIGHTS]
    weights = []
    for profile in profiles:
        siblings = sum(1 for other in profiles if other.division == profile.division)
        weights.append(_DIVISION_WEIGHTS[profile.division] / siblings * _CLASS_MULTIPLIERS.get(profile.code, 1.0))
    industry_cumulative, industry_total = _cumulative(weights)
    subdistrict_cumulative, subdistrict_total = _cumulative(_SUBDISTRICT_WEIGHTS)
    others = list(_OTHER_DISTRICT_WEIGHTS)
    other_cumulative, other_total = _cumulative(list(_OTHER_DISTRICT_WEIGHTS.values()))
    district_names = list(GUANGZHOU_DISTRICTS)
    domestic_types = [name for name, _ in _DOMESTIC_TYPES]
    domestic_cumulative, domestic_total = _cumulative([weight for _, weight in _DOMESTIC_TYPES])
    foreign_types = [name for name, _ in _FOREIGN_TYPES]
    foreign_cumulative, foreign_total = _cumulative([weight for _, weight in _FOREIGN_TYPES])
    currencies = [code for code, _ in _FOREIGN_CURRENCIES]
    currency_cumulative, currency_total = _cumulative([weight for _, weight in _FOREIGN_CURRENCIES])
    capital_steps = _CAPITAL_TEN_THOUSANDS
    last_capital_step = len(capital_steps) - 1

    # Establishment years: registrations grow about 11% a year, and jump with the 2014 reform.
    years = list(range(_FIRST_YEAR, year + 1))
    year_cumulative, year_total = _cumulative(
        [exp(0.11 * (y - _FIRST_YEAR)) * (1.6 if y >= 2014 else 1.0) for y in years]
    )
    year_starts = [date(y, 1, 1).toordinal() for y in years]
    year_lengths = [date(y + 1, 1, 1).toordinal() - date(y, 1, 1).toordinal() for y in years]
    end_ordinal = date(year, 12, 31).toordinal()
    period = year - 1  # 上年度
    period_start = date(period, 1, 1).toordinal()
    period_end = date(period, 12, 31).toordinal()
    reform_ordinal = _SUBSCRIBED_CAPITAL_REFORM.toordinal()
    ma_ordinal = _MA_CODES_FROM.toordinal()
    listing_floor = date(1991, 1, 1).toordinal()
    little_giant_floor = _FIRST_LITTLE_GIANTS.toordinal()
    recent_ordinal = date(year - 2, 1, 1).toordinal()

    # Monthly insured-employee patterns: a small random walk around 1.
    patterns: list[tuple[float, ...]] = []
    for _ in range(_MONTH_PATTERNS):
        level, walk = 1.0 + gauss(0, 0.03), []
        for _month in range(12):
            level *= 1 + gauss(0, 0.02)
            walk.append(level)
        patterns.append(tuple(walk))
    zero_months = [0] * 12

    # Bijections of the row index: unique 字号 and unique organisation codes.
    brand_modulus = MAX_SYNTHETIC_ROWS
    brand_multiplier, brand_offset = _coprime_multiplier(rng, brand_modulus), rng.randrange(brand_modulus)
    old_modulus = 10**8
    old_multiplier, old_offset = _coprime_multiplier(rng, old_modulus), rng.randrange(old_modulus)
    ma_modulus = 31**6
    ma_multiplier, ma_offset = _coprime_multiplier(rng, ma_modulus), rng.randrange(ma_modulus)
    region_sums = {
        code: sum(_USCC_VALUES[char] * weight for char, weight in zip("91" + code, USCC_WEIGHTS, strict=False))
        for code in GUANGZHOU_DISTRICTS.values()
    }
    organisation_weights = USCC_WEIGHTS[8:]
    values = _USCC_VALUES
    brand_characters = _BRAND_CHARACTERS

    for index in range(n):
        # Where.
        in_yuexiu = rand() < YUEXIU_SHARE
        if in_yuexiu:
            district = YUEXIU
            subdistrict: str | None = YUEXIU_SUBDISTRICTS[
                bisect.bisect(subdistrict_cumulative, rand() * subdistrict_total)
            ]
        else:
            district = others[bisect.bisect(other_cumulative, rand() * other_total)]
            subdistrict = None
        draw = rand()
        if draw < 0.94:
            tax_district = district
        elif not in_yuexiu and draw < 0.97:
            tax_district = YUEXIU  # a headquarters-style tax relation in 越秀
        else:
            tax_district = district_names[int(rand() * len(district_names))]
        draw = rand()
        if draw < 0.95:
            stats_district = district
        elif tax_district != district:
            stats_district = tax_district
        else:
            stats_district = district_names[int(rand() * len(district_names))]

        # What and how big.
        profile = profiles[bisect.bisect(industry_cumulative, rand() * industry_total)]
        code = profile.code
        foreign = rand() < profile.foreign_share
        draw = rand()
        if draw < 0.05:
            employees = 0
        elif draw < 0.05 + _TAIL_SHARE:  # Pareto tail: the few large employers
            employees = min(int(_TAIL_FROM * exp(profile.size_shift) * (1.0 - rand()) ** _TAIL_EXPONENT), 80_000)
        else:
            employees = int(exp(gauss(1.0 + profile.size_shift, 1.3))) + 1

        # When.
        year_index = bisect.bisect(year_cumulative, rand() * year_total)
        if employees >= 100:  # large enterprises are older
            year_index = min(year_index, bisect.bisect(year_cumulative, rand() * year_total))
        established_ordinal = year_starts[year_index] + int(rand() * year_lengths[year_index])
        established_on = date.fromordinal(established_ordinal)
        settled_on = None
        if in_yuexiu:
            if rand() < 0.92:
                settled_on = established_on
            else:
                settled_on = date.fromordinal(
                    established_ordinal + int(rand() * (end_ordinal - established_ordinal + 1))
                )

        listed = False
        listed_on = None
        if employees >= 300 and rand() < (0.25 if employees >= 1000 else 0.05):
            earliest = max(established_ordinal + 3 * 365, listing_floor)
            if earliest < end_ordinal:
                listed = True
                listed_on = date.fromordinal(earliest + int(rand() * (end_ordinal - earliest + 1)))

        # Legal form and name.
        if listed:
            enterprise_type = (
                "股份有限公司（上市、自然人投资或控股）" if rand() < 0.7 else "股份有限公司（上市、国有控股）"
            )
        elif code == "6621":
            enterprise_type = "股份有限公司分公司（上市、国有控股）"
        elif code in ("6731", "6739") and rand() < 0.5:
            enterprise_type = "有限合伙企业"
        elif foreign:
            enterprise_type = foreign_types[bisect.bisect(foreign_cumulative, rand() * foreign_total)]
        else:
            enterprise_type = domestic_types[bisect.bisect(domestic_cumulative, rand() * domestic_total)]
        branch = "分公司" in enterprise_type

        brand_number = (index * brand_multiplier + brand_offset) % brand_modulus
        brand = _base_digits(brand_number, brand_characters, 3)
        words = profile.words
        word = words[int(rand() * len(words))]
        area = district[:-1]
        draw = rand()
        if draw < 0.92:
            prefix = "广州" if draw < 0.6 else "广州市"
        else:
            prefix = "广东" if employees >= 50 or branch else f"广州市{district}"
        if code == "6621":
            name = f"{brand}银行股份有限公司广州{area}支行"
        elif branch:
            name = f"{prefix}{brand}{word}有限公司{area}分公司"
        elif enterprise_type == "有限合伙企业":
            name = f"{prefix}{brand}{word}合伙企业（有限合伙）"
        elif enterprise_type == "个人独资企业":
            name = f"广州市{district}{brand}{word}{'经营部' if profile.section == 'F' else '工作室'}"
        elif enterprise_type.startswith("股份"):
            name = f"{prefix}{brand}{word}股份有限公司"
        else:
            name = f"{prefix}{brand}{word}有限公司"
        name += SYNTHETIC_SUFFIX

        # USCC: 9 (market regulation) 1 (enterprise), region, organisation code, check digit.
        if established_ordinal < ma_ordinal:
            body = f"{(index * old_multiplier + old_offset) % old_modulus:08d}"
        else:
            body = "MA" + _base_digits((index * ma_multiplier + ma_offset) % ma_modulus, USCC_ALPHABET, 6)
        organisation_code = body + organisation_code_check_digit(body)
        region = GUANGZHOU_DISTRICTS[district]
        total = region_sums[region]
        for char, weight in zip(organisation_code, organisation_weights, strict=True):
            total += values[char] * weight
        uscc = f"91{region}{organisation_code}{USCC_ALPHABET[-total % 31]}"

        # Capital: in the registered currency, round amounts that grow with size. Branches have none.
        if foreign:
            currency = currencies[bisect.bisect(currency_cumulative, rand() * currency_total)]
        else:
            currency = "CNY"
        if branch:
            registered_cents = paid_in_cents = None
            currency_or_none: str | None = None
        else:
            currency_or_none = currency
            step = int(6.0 + 1.1 * math.log1p(employees) + gauss(0, 1.8) + (3 if profile.section == "J" else 0))
            ten_thousands = capital_steps[min(max(step, 0), last_capital_step)] * _CAPITAL_SCALE.get(currency, 1)
            if rand() < 0.1:  # an odd amount such as 2029万
                registered_cents = int(ten_thousands * 100 * (0.5 + rand())) * 10_000
            else:
                registered_cents = ten_thousands * 1_000_000
            draw = rand()
            if established_ordinal < reform_ordinal or draw < 0.25:
                paid_in_cents = registered_cents
            elif draw < 0.8:
                paid_in_cents = 0
            elif draw < 0.9:
                paid_in_cents = int(registered_cents * rand() / 1_000_000) * 1_000_000
            else:
                paid_in_cents = None

        # Money for 上年度 (period) and 前年.
        established_year = years[year_index]
        if established_year >= year:
            revenue_cents = revenue_prev_cents = tax_cents = None
        else:
            if (employees == 0 and rand() < 0.7) or rand() < _DORMANT_SHARE:
                revenue_cents = 0
            else:
                revenue_cents = int(max(employees, 1) * profile.revenue_per_employee * exp(gauss(0, 1.0)) * 100)
                if established_year == period:
                    revenue_cents = int(revenue_cents * (period_end - established_ordinal + 1) / 366)
            if established_year >= period:
                revenue_prev_cents = None
            else:
                revenue_prev_cents = int(revenue_cents / exp(gauss(0.05, 0.25)))
            tax_cents = int(revenue_cents * profile.tax_rate * exp(gauss(0, 0.35)))

        # Tags, in TAGS order.
        small = False
        if profile.small_applies:
            medium_employees, medium_revenue = profile.medium_employees, profile.medium_revenue
            if medium_employees is not None and employees < medium_employees:
                small = True
            elif medium_revenue is not None and revenue_cents is not None and revenue_cents < medium_revenue * 100:
                small = True
            elif medium_revenue is not None and revenue_cents is None and medium_employees is None:
                small = employees < 50
        tech = profile.tech
        high_tech = tech > 0 and employees >= 3 and rand() < tech * (0.9 if employees >= 20 else 0.2)
        science_sme = tech > 0 and 3 <= employees < 500 and rand() < tech * 0.3
        innovative = 3 <= employees < 1000 and rand() < tech * 0.25 + 0.004
        specialised = innovative and employees >= 5 and rand() < 0.45
        little_giant = specialised and employees >= 20 and rand() < 0.3
        revenue_known = revenue_cents or 0
        headquarters = (employees >= 200 or revenue_known >= 50_000_000_000) and rand() < 0.4
        if code == "7211" and employees >= 20 and rand() < 0.5:
            headquarters = True
        tags: list[str] = []
        if high_tech:
            tags.append("高新技术企业")
        if specialised:
            tags.append("专精特新中小企业")
        if little_giant:
            tags.append("专精特新小巨人")
        if headquarters:
            tags.append("总部企业")
        scale_tag = profile.scale_tag
        scale = scale_tag is not None and revenue_known >= profile.scale_revenue * 100
        if scale and scale_tag == "规模以上企业":
            tags.append(scale_tag)
        if listed:
            tags.append("上市企业")
        if profile.licensed_share and rand() < profile.licensed_share:
            tags.append("持牌金融机构")
        if innovative:
            tags.append("创新型中小企业")
        if science_sme:
            tags.append("科技型中小企业")
        if small:
            tags.append("小微企业")
        if foreign:
            tags.append("外资企业")
        if settled_on is not None and settled_on != established_on and settled_on.toordinal() >= period_start:
            tags.append("新落户企业")
        if profile.consumer:
            if in_yuexiu and (settled_on or established_on).toordinal() >= recent_ordinal and rand() < 0.05:
                tags.append("首店")
            if (foreign and rand() < 0.4) or rand() < 0.002:
                tags.append("国际品牌")
        if scale and scale_tag == "限额以上批发零售企业":
            tags.append(scale_tag)
        if scale and scale_tag == "限额以上住宿餐饮企业":
            tags.append(scale_tag)
        if profile.culture and rand() < 0.9:
            tags.append("文化企业")
        if profile.software:
            tags.append("软件和信息技术服务企业")
        if profile.health:
            tags.append("医药健康企业")

        # R&D and the district's share of tax.
        if revenue_cents is None:
            rd_cents = contribution_cents = None
        else:
            if high_tech:
                rd_cents = int(revenue_cents * (0.04 + 0.08 * rand()))
            elif innovative or science_sme:
                rd_cents = int(revenue_cents * (0.03 + 0.07 * rand()))
            elif tech >= 0.5 and rand() < 0.4:
                rd_cents = int(revenue_cents * (0.01 + 0.04 * rand()))
            elif rand() < 0.01:
                rd_cents = int(revenue_cents * 0.02 * rand())
            else:
                rd_cents = 0
            contribution_cents = int(tax_cents * (0.15 + 0.2 * rand())) if tax_district == YUEXIU else 0

        # Insured employees for each month of the period year.
        if employees == 0 or established_ordinal > period_end:
            monthly = zero_months.copy()
        else:
            base = employees * (0.55 + 0.45 * rand())
            monthly = [int(base * factor + 0.5) for factor in patterns[int(rand() * _MONTH_PATTERNS)]]
            if established_ordinal > period_start:
                for month in range(established_on.month - 1):
                    monthly[month] = 0

        draw = rand()
        credit_status = "严重失信" if draw < 0.005 else "一般失信" if draw < 0.035 else "良好"

        # First "小巨人" recognition: drawn from a generator of its own, so that the main stream (and
        # every other value of this and later rows) is what it was before the column existed.
        little_giant_on = None
        if little_giant and little_giant_floor <= end_ordinal:
            earliest = min(max(established_ordinal + 365, little_giant_floor), end_ordinal)
            offset = int(random.Random(f"little-giant:{seed}:{uscc}").random() * (end_ordinal - earliest + 1))
            little_giant_on = date.fromordinal(earliest + offset)

        yield {
            "uscc": uscc,
            "name": name,
            "district": district,
            "subdistrict": subdistrict,
            "tax_district": tax_district,
            "stats_district": stats_district,
            "industry_code": code,
            "enterprise_type": enterprise_type,
            "foreign_invested": foreign,
            "established_on": established_on,
            "settled_on": settled_on,
            "listed_on": listed_on,
            "little_giant_on": little_giant_on,
            "registered_capital": None if registered_cents is None else _money(registered_cents),
            "paid_in_capital": None if paid_in_cents is None else _money(paid_in_cents),
            "capital_currency": currency_or_none,
            "employees": employees,
            "insured_employees_monthly": monthly,
            "revenue": None if revenue_cents is None else _money(revenue_cents),
            "revenue_prev": None if revenue_prev_cents is None else _money(revenue_prev_cents),
            "tax_paid": None if tax_cents is None else _money(tax_cents),
            "district_contribution": None if contribution_cents is None else _money(contribution_cents),
            "rd_expense": None if rd_cents is None else _money(rd_cents),
            "tags": tags,
            "credit_status": credit_status,
            "is_synthetic": True,
        }
