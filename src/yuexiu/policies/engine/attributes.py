"""The enterprise attributes rules may read (一企一档): name, type, unit and Chinese label.

This is the contract between the registry (what is imported and stored), the rule files (what a
condition or a formula may name) and the engine (the DuckDB column types). Pure module.

Types:
- ``text``: a string (a district, a subdistrict, a type, a credit status);
- ``code``: a GB/T 4754-2017 industry class code, four digits ("6620"); conditions may match a prefix;
- ``date``: a calendar date;
- ``int``: a whole number (people);
- ``money``: an amount in 元, two decimals. Registered and paid-in capital are in the registered
  currency (``capital_currency``); every other amount is in 人民币;
- ``bool``: true or false;
- ``tags``: a set of labels from ``TAGS``;
- ``series``: twelve whole numbers, one per month of the period year (January first).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from yuexiu.core import money


@dataclass(frozen=True)
class Attribute:
    name: str
    type: str
    label: str
    sql_type: str
    short: str = ""  # the name shown before a value ("注册地：越秀区"); default: the label without its unit

    @property
    def shown(self) -> str:
        """``"上年度营业收入（元）"`` → ``"上年度营业收入"``: the value says its unit itself."""
        return self.short or self.label.split("（")[0]


ATTRIBUTES: dict[str, Attribute] = {
    a.name: a
    for a in [
        Attribute("uscc", "text", "统一社会信用代码", "VARCHAR"),
        Attribute("name", "text", "企业名称", "VARCHAR"),
        Attribute("district", "text", "注册地所在区", "VARCHAR", "注册地"),
        Attribute("subdistrict", "text", "注册地所在街道", "VARCHAR", "注册地街道"),
        Attribute("tax_district", "text", "税务征管关系所在区", "VARCHAR"),
        Attribute("stats_district", "text", "统计关系所在区", "VARCHAR"),
        Attribute("industry_code", "code", "国民经济行业小类（GB/T 4754-2017）", "VARCHAR", "行业小类"),
        Attribute("enterprise_type", "text", "企业类型", "VARCHAR"),
        Attribute("foreign_invested", "bool", "外商投资企业", "BOOLEAN"),
        Attribute("established_on", "date", "成立日期", "DATE"),
        Attribute("settled_on", "date", "落户越秀日期", "DATE"),
        Attribute("listed_on", "date", "上市日期", "DATE"),
        # The first recognition as a national 专精特新"小巨人" (the year's recognition list, e.g.
        # 粤工信融资函〔2025〕51号 第七批); a re-review (复核) does not change it.
        Attribute("little_giant_on", "date", "专精特新“小巨人”首次认定日期", "DATE", "“小巨人”认定日期"),
        Attribute("registered_capital", "money", "注册资本（登记币种，元）", "DECIMAL(18,2)"),
        Attribute("paid_in_capital", "money", "实缴资本（登记币种，元）", "DECIMAL(18,2)"),
        Attribute("capital_currency", "text", "注册资本币种", "VARCHAR"),
        Attribute("employees", "int", "从业人数", "INTEGER"),
        Attribute("insured_employees_monthly", "series", "各月社保参保人数", "INTEGER[]"),
        Attribute("revenue", "money", "上年度营业收入（元）", "DECIMAL(18,2)"),
        Attribute("revenue_prev", "money", "前年营业收入（元）", "DECIMAL(18,2)"),
        Attribute("tax_paid", "money", "上年度纳税总额（元）", "DECIMAL(18,2)"),
        Attribute("district_contribution", "money", "上年度对区贡献（区级财力，元）", "DECIMAL(18,2)"),
        Attribute("rd_expense", "money", "上年度研发费用（元）", "DECIMAL(18,2)"),
        Attribute("tags", "tags", "企业标签", "BIGINT"),
        Attribute("credit_status", "text", "信用状况", "VARCHAR"),
    ]
}

# Labels an enterprise can carry. The engine stores a set of tags as a bitmask (bit i = TAGS[i]), so
# a condition on a tag is one AND on an integer. New tags go at the END (stored masks keep meaning).
TAGS: tuple[str, ...] = (
    "高新技术企业",
    "专精特新中小企业",
    "专精特新小巨人",
    "总部企业",
    "规模以上企业",
    "上市企业",
    "持牌金融机构",
    "创新型中小企业",
    "科技型中小企业",
    "小微企业",
    "个体工商户",
    "外资企业",
    "新落户企业",
    "首店",
    "国际品牌",
    "限额以上批发零售企业",
    "限额以上住宿餐饮企业",
    "文化企业",
    "软件和信息技术服务企业",
    "医药健康企业",
)

CREDIT_STATUSES: tuple[str, ...] = ("良好", "一般失信", "严重失信")
# The currencies a capital may be registered in, and their Chinese names: one table, kept with the
# platform's money reader (``yuexiu.core.money``), which reads "800(万香港元)" as HKD.
CURRENCIES = money.CURRENCIES
CURRENCY_NAMES = money.CURRENCY_NAMES

YUEXIU = "越秀区"
# The 11 districts of 广州市 and their six-digit division codes (the region part of a USCC).
GUANGZHOU_DISTRICTS: dict[str, str] = {
    "越秀区": "440104",
    "荔湾区": "440103",
    "海珠区": "440105",
    "天河区": "440106",
    "白云区": "440111",
    "黄埔区": "440112",
    "番禺区": "440113",
    "花都区": "440114",
    "南沙区": "440115",
    "从化区": "440117",
    "增城区": "440118",
}


def tags_to_mask(tags: object) -> int:
    """``{"高新技术企业", "总部企业"}`` → ``0b1001``. Raises ``ValueError`` for a tag not in ``TAGS``."""
    mask = 0
    for tag in tags or ():
        try:
            mask |= 1 << TAGS.index(tag)
        except ValueError:
            raise ValueError(f"未知的企业标签：{tag}（可用：{'、'.join(TAGS)}）") from None
    return mask


def mask_to_tags(mask: int) -> list[str]:
    return [tag for i, tag in enumerate(TAGS) if mask >> i & 1]


def to_engine_row(values: dict[str, Any]) -> dict[str, Any]:
    """A registry record (model values, a generated row or a JSON snapshot) → the engine's row:
    tags as the bitmask, money as ``Decimal``, dates as ``date``, empty text as ``None``."""
    row: dict[str, Any] = {}
    for name, attribute in ATTRIBUTES.items():
        value = values.get(name)
        if value in ("", None):
            row[name] = 0 if attribute.type == "tags" else None
        elif attribute.type == "tags":
            row[name] = value if isinstance(value, int) else tags_to_mask(value)
        elif attribute.type == "money":
            row[name] = Decimal(str(value))
        elif attribute.type == "date":
            row[name] = value if isinstance(value, date) else date.fromisoformat(str(value))
        else:
            row[name] = value
    return row
