"""Amounts of money as people and registers write them: one reader for the whole platform.

``"60万元"``, ``"60 万"``, ``"1.5亿元"``, ``"600,000元"``, ``"¥600,000"``, ``"60万元整"``, a register's
``"50(万元人民币)"`` or ``"800(万香港元)"``: one number (Arabic digits; thousands separators only in
groups of three), an optional multiplier (千、万、百万、千万、亿), an optional 元 and an optional
currency word. The result is ``Decimal`` 元 with exactly two decimals (分), never a float.

What is refused, with a Chinese message naming the text (``MoneyError``): a number without a unit
where the field does not state one (``"500"``: 元 or 万元?), two numbers (``"60万5000元"``, ``"50万至
100万元"``), two multipliers (``"1万亿元"``), Chinese numerals, a negative amount, thousands separators
out of place (``"1,2345"``, ``"12,00"``), digits split by a space (``"1 2"``), words that are not a
currency (``"约60万"``), another currency where only 人民币 is accepted, an amount finer than a 分,
and an amount at or above the field's maximum.

Pure module: no Django import (the policy engine and the registry reader use it too).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, localcontext

CENT = Decimal("0.01")
# DECIMAL(18,2) holds 16 digits before the point: the largest amount any column can store.
MAX_STORED = Decimal(10) ** 16
# 1 万亿元: above any grant, budget or enterprise figure a person types (and keeps 分 in 64 bits).
MAX_TYPED = Decimal(10) ** 12

CURRENCIES: tuple[str, ...] = ("CNY", "HKD", "USD", "EUR", "GBP", "JPY", "MOP", "TWD")
CURRENCY_NAMES: dict[str, str] = {
    "CNY": "人民币",
    "HKD": "港元",
    "USD": "美元",
    "EUR": "欧元",
    "GBP": "英镑",
    "JPY": "日元",
    "MOP": "澳门元",
    "TWD": "新台币",
}

# Spellings of a currency once every "元" is removed and Latin letters are upper case:
# "万元人民币" → "人民币", "万香港元" → "香港", "美元" → "美". "澳元" (Australian dollar) is not MOP.
CURRENCY_WORDS: dict[str, str] = {
    "人民币": "CNY",
    "RMB": "CNY",
    "CNY": "CNY",
    "¥": "CNY",
    "港": "HKD",
    "港币": "HKD",
    "香港": "HKD",
    "HKD": "HKD",
    "HK$": "HKD",
    "美": "USD",
    "美金": "USD",
    "美国": "USD",
    "USD": "USD",
    "US$": "USD",
    "欧": "EUR",
    "EUR": "EUR",
    "€": "EUR",
    "英镑": "GBP",
    "GBP": "GBP",
    "£": "GBP",
    "日": "JPY",
    "日本": "JPY",
    "日币": "JPY",
    "JPY": "JPY",
    "澳门": "MOP",
    "澳门币": "MOP",
    "葡币": "MOP",
    "MOP": "MOP",
    "新台币": "TWD",
    "新台": "TWD",
    "台币": "TWD",
    "TWD": "TWD",
    "NTD": "TWD",
}
MULTIPLIERS: dict[str, Decimal] = {
    "亿": Decimal(100_000_000),
    "千万": Decimal(10_000_000),
    "百万": Decimal(1_000_000),
    "万": Decimal(10_000),
    "千": Decimal(1_000),
}
# A unit a field may state for bare numbers ("核定金额（元）", "营业收入（万元）").
UNITS: dict[str, Decimal] = {"元": Decimal(1), "万元": Decimal(10_000), "亿元": Decimal(100_000_000)}
# Cell texts that mean "no value" in registers exported from other systems.
BLANK_MARKERS = frozenset({"", "-", "--", "—", "——", "/", "N/A", "NA", "NULL", "NONE", "无", "暂无", "不详"})

_MULTIPLIER_RE = re.compile("千万|百万|亿|万|千")
_NUMBER_RE = re.compile(r"\d[\d,]*(?:\.\d+)?")
_GROUPED_RE = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_SPACED_DIGITS_RE = re.compile(r"\d\s+\d")
_SPACE_GROUPS_RE = re.compile(r"(?<=\d)\s(?=\d{3}(?!\d))")  # "60 000" → "60000" (groups of three only)
_BRACKETS = str.maketrans("", "", "()[]【】")
_CHINESE_NUMERALS = frozenset("零〇一二两三四五六七八九十百千壹贰叁肆伍陆柒捌玖拾佰仟")


class MoneyError(ValueError):
    """An amount that cannot be read; ``message`` (also ``str(error)``) is Chinese and names ``text``."""

    def __init__(self, message: str, text: str) -> None:
        super().__init__(message)
        self.message = message
        self.text = text


def read_money(
    text: str,
    *,
    label: str = "金额",
    unit: str | None = None,
    example: str = "60万元",
    maximum: Decimal | None = MAX_STORED,
    any_currency: bool = True,
) -> tuple[Decimal | None, str | None]:
    """Read an amount in any currency: ``(amount in 元 of that currency, ISO 4217 code)``.

    ``unit`` is the unit the field states for a bare number (``"元"`` or ``"万元"``); without it a bare
    number is refused as ambiguous. A multiplier or 元 without a currency word is 人民币. Blank
    markers (``""``, ``"-"``, ``"N/A"``, ``"无"`` …) give ``(None, None)``. ``maximum`` (元, exclusive;
    None: no bound) keeps the amount storable. ``example`` is the shape the refusal suggests.
    ``any_currency=False`` accepts 人民币 only (a word that is no currency is then not a currency
    problem but an unreadable amount). Raises ``MoneyError``: ``"无法识别{label}“{text}”：{reason}"``.
    """
    cleaned = unicodedata.normalize("NFKC", str(text)).strip()
    if cleaned.upper() in BLANK_MARKERS:
        return None, None

    def refuse(reason: str) -> MoneyError:
        return MoneyError(f"无法识别{label}“{str(text).strip()}”：{reason}", str(text))

    shape = f"应为“{example}”这样的金额"
    spaced = _SPACE_GROUPS_RE.sub("", cleaned)
    if _SPACED_DIGITS_RE.search(spaced):
        raise refuse("数字中间不能有空格")
    compact = "".join(spaced.split()).removesuffix("整")
    numbers = list(_NUMBER_RE.finditer(compact))
    if not numbers:
        if any(char in _CHINESE_NUMERALS for char in compact.replace("百万", "").replace("千万", "")):
            raise refuse("请用阿拉伯数字填写金额，如“100万元”")
        raise refuse(shape)
    if len(numbers) > 1:
        raise refuse(shape)
    number = numbers[0]
    digits = number.group()
    if "," in digits:
        if not _GROUPED_RE.fullmatch(digits):
            raise refuse("千分位逗号应每三位一组，如“1,200,000元”")
        digits = digits.replace(",", "")
    before, after = compact[: number.start()], compact[number.end() :]
    if before.endswith("-") or before.endswith("−"):
        raise refuse("不能为负数")
    rest = (before + after).translate(_BRACKETS)
    multipliers = _MULTIPLIER_RE.findall(rest)
    if len(multipliers) > 1:
        raise refuse(shape)
    word = _MULTIPLIER_RE.sub("", rest)
    has_yuan = "元" in word
    word = word.replace("元", "").upper()
    if word:
        currency = CURRENCY_WORDS.get(word)
        if currency is None:
            if not any_currency:
                raise refuse(shape)
            raise refuse(f"币种无法识别，可用的币种：{'、'.join(CURRENCY_NAMES.values())}")
        if currency != "CNY" and not any_currency:
            raise refuse("只能填写人民币金额")
    elif has_yuan or multipliers:
        currency = "CNY"
    elif unit is not None:
        currency = "CNY"
    else:
        raise refuse(f"未注明单位，请写成“{digits}万元”或“{digits}元”")
    factor = MULTIPLIERS[multipliers[0]] if multipliers else (UNITS[unit] if unit and not has_yuan else Decimal(1))
    if len(digits.split(".")[0]) > 30:  # far beyond any amount; keeps Decimal arithmetic exact below
        raise refuse("金额过大")
    with localcontext() as exact:
        exact.prec = 80
        amount = Decimal(digits) * factor
        rounded = amount.quantize(CENT)
    if maximum is not None and amount >= maximum:
        raise refuse("金额过大")
    if rounded != amount:
        raise refuse("金额最多精确到分")
    return rounded, currency


def read_yuan(
    text: str,
    *,
    label: str = "金额",
    unit: str | None = None,
    maximum: Decimal | None = MAX_TYPED,
) -> Decimal:
    """Read an amount in 人民币 that a person typed: ``Decimal`` 元 with two decimals.

    ``"60万元"``, ``"60 万"``, ``"1.5亿元"``, ``"600,000元"`` → 600000.00 / 600000.00 / 150000000.00 /
    600000.00; with ``unit="元"`` also ``"600000"``. Raises ``MoneyError`` for a blank text
    (``"请填写{label}"``), another currency, and everything ``read_money`` refuses.
    """
    if not str(text).strip():
        raise MoneyError(f"请填写{label}", str(text))
    amount, _ = read_money(text, label=label, unit=unit, maximum=maximum, any_currency=False)
    if amount is None:
        raise MoneyError(f"请填写{label}", str(text))
    return amount


def fen_of(amount: Decimal) -> int:
    """``Decimal("1234.56")`` 元 → ``123456`` 分 (the amount is already whole 分)."""
    return int(amount.quantize(CENT) * 100)


def format_readable(value: Decimal) -> str:
    """An amount as people read it in conditions and data: ``52000000`` → ``"5,200万元"``,
    ``12345600`` → ``"1,234.56万元"``; below 1万元, or not a whole 百元, in 元 with two decimals:
    ``69601.61`` → ``"69,601.61元"``. Exact: the text always gives back the same amount."""
    amount = Decimal(value)
    wan = amount / 10000
    if abs(amount) >= 10000 and wan == wan.quantize(CENT):
        text = f"{wan.quantize(CENT):,}".rstrip("0").rstrip(".")
        return f"{text}万元"
    return f"{amount.quantize(CENT):,}元"
