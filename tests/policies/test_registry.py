"""The enterprise registry (一企一档): messy capital texts, USCCs, uploaded registers in CSV and Excel,
and the synthetic register. Pure module, no database."""

from __future__ import annotations

import io
import statistics
from collections import Counter
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook
from stdnum.cn import uscc as stdnum_uscc

from yuexiu.core.tabular import TableError, write_csv
from yuexiu.policies.engine.attributes import ATTRIBUTES, CREDIT_STATUSES, CURRENCIES, TAGS, tags_to_mask
from yuexiu.policies.registry import (
    COLUMNS,
    CURRENCY_NAMES,
    ROW_FIELDS,
    SECTION_OF_DIVISION,
    YUEXIU_SUBDISTRICTS,
    CapitalParseError,
    NameClash,
    RegistryImport,
    RowError,
    generate_synthetic,
    load_industries,
    name_clashes_with,
    normalise_name,
    normalise_uscc,
    organisation_code_check_digit,
    parse_capital,
    parse_industry_code,
    read_registry,
    uscc_check_digit,
    wan_to_yuan,
)


def valid_uscc(first17: str) -> str:
    """A USCC with the check digit python-stdnum computes (independent of the module under test)."""
    return first17 + stdnum_uscc.calc_check_digit(first17)


ALPHA = valid_uscc("91440104MA59AAAA1")
BETA = valid_uscc("91440104MA59BBBB2")
GAMMA = valid_uscc("91440106MA59CCCC3")
DELTA = valid_uscc("91440104190000011")


# --- registered capital ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("50(万元人民币)", "500000.00", "CNY"),
        ("2,029(万人民币元)", "20290000.00", "CNY"),
        ("800(万香港元)", "8000000.00", "HKD"),
        ("100万美元", "1000000.00", "USD"),
        ("1.5亿元", "150000000.00", "CNY"),
        ("5000000元", "5000000.00", "CNY"),
        ("30万元", "300000.00", "CNY"),
        ("５０（万元人民币）", "500000.00", "CNY"),
        ("２，０２９（万人民币元）", "20290000.00", "CNY"),
        ("50万元人民币", "500000.00", "CNY"),
        ("200(万欧元)", "2000000.00", "EUR"),
        ("人民币50万元", "500000.00", "CNY"),
        ("5000.000000万人民币", "50000000.00", "CNY"),
        ("USD 100万", "1000000.00", "USD"),
        ("100 万港币", "1000000.00", "HKD"),
        ("1000(万日元)", "10000000.00", "JPY"),
        ("30万澳门元", "300000.00", "MOP"),
        ("12.3456万元", "123456.00", "CNY"),
        ("50万", "500000.00", "CNY"),
        ("0元", "0.00", "CNY"),
    ],
)
def test_capital_texts_are_read_as_yuan_with_two_decimals_in_the_registered_currency(
    text: str, amount: str, currency: str
) -> None:
    parsed_amount, parsed_currency = parse_capital(text)
    assert parsed_amount is not None
    assert str(parsed_amount) == amount  # exactly two decimals, no float on the way
    assert parsed_currency == currency


@pytest.mark.parametrize("text", ["N/A", "", "-", "无", "暂无", "  ", "－", "n/a"])
def test_capital_placeholders_mean_no_value(text: str) -> None:
    assert parse_capital(text) == (None, None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "无法识别注册资本“abc”：应为“50(万元人民币)”这样的金额和币种"),
        ("壹佰万元", "无法识别注册资本“壹佰万元”：请用阿拉伯数字填写金额，如“100万元”"),
        ("500", "无法识别注册资本“500”：未注明单位，请写成“500万元”或“500元”"),
        (
            "50万卢布",
            "无法识别注册资本“50万卢布”：币种无法识别，可用的币种：人民币、港元、美元、欧元、英镑、日元、澳门元、新台币",
        ),
        (
            "50万澳元",
            "无法识别注册资本“50万澳元”：币种无法识别，可用的币种：人民币、港元、美元、欧元、英镑、日元、澳门元、新台币",
        ),
        ("50万至100万元", "无法识别注册资本“50万至100万元”：应为“50(万元人民币)”这样的金额和币种"),
        ("1万亿元", "无法识别注册资本“1万亿元”：应为“50(万元人民币)”这样的金额和币种"),
        ("0.001元", "无法识别注册资本“0.001元”：金额最多精确到分"),
        ("100000000亿元", "无法识别注册资本“100000000亿元”：金额过大"),
    ],
)
def test_unreadable_capital_is_refused_with_a_chinese_message_naming_the_text(text: str, message: str) -> None:
    with pytest.raises(CapitalParseError) as caught:
        parse_capital(text)
    assert str(caught.value) == message
    assert caught.value.text == text
    assert isinstance(caught.value, ValueError)


def test_a_capital_error_names_the_column_it_came_from() -> None:
    with pytest.raises(CapitalParseError, match="^无法识别实缴资本“很多”："):
        parse_capital("很多", label="实缴资本")


def test_amounts_in_ten_thousand_yuan_are_converted_exactly() -> None:
    assert wan_to_yuan("123.45") == Decimal("1234500.00")
    assert str(wan_to_yuan("0.000001")) == "0.01"
    assert wan_to_yuan("1,234.5678") == Decimal("12345678.00")
    assert wan_to_yuan("12万元") == Decimal("120000.00")
    assert str(wan_to_yuan("0")) == "0.00"
    # A unit written in the cell wins over the column's 万元 (the platform's one money reader).
    assert wan_to_yuan("1,234,567元") == Decimal("1234567.00")
    assert wan_to_yuan("1.2亿元") == Decimal("120000000.00")
    with pytest.raises(ValueError, match="^无法识别金额“0.0000001”：金额最多精确到分$"):
        wan_to_yuan("0.0000001")
    with pytest.raises(ValueError, match="^无法识别金额“-5”：不能为负数$"):
        wan_to_yuan("-5")
    with pytest.raises(ValueError, match="^无法识别金额“约5”：应为“123.45”这样的金额$"):
        wan_to_yuan("约5")
    with pytest.raises(ValueError, match="^无法识别金额“5万美元”：只能填写人民币金额$"):
        wan_to_yuan("5万美元")


# --- USCC, industry codes, names -------------------------------------------------------------------------


def test_a_uscc_is_stripped_made_half_width_and_upper_case() -> None:
    assert normalise_uscc(" 91110000600037341l ") == "91110000600037341L"
    assert normalise_uscc("９１１１００００６０００３７３４１Ｌ") == "91110000600037341L"
    assert normalise_uscc("91110000-600037341L") == "91110000600037341L"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("91110000600037341A", "统一社会信用代码“91110000600037341A”校验位不正确：请逐位核对是否抄错"),
        ("9111000060003734", "统一社会信用代码“9111000060003734”长度应为18位，实为16位"),
        (
            "9111000060003734IL",
            "统一社会信用代码“9111000060003734IL”含有无效字符："
            "前8位应为数字，其余为数字或大写字母（不含 I、O、Z、S、V）",
        ),
        (" ", "统一社会信用代码不能为空"),
    ],
)
def test_a_wrong_uscc_is_refused_with_a_chinese_message(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        normalise_uscc(text)
    assert str(caught.value) == message


def test_check_digits_follow_gb_32100_and_gb_11714() -> None:
    assert uscc_check_digit("91110000600037341") == "L"
    assert uscc_check_digit("91440104MA59AAAA1") == stdnum_uscc.calc_check_digit("91440104MA59AAAA1")
    # 91110000600037341L carries the organisation code 60003734-1.
    assert organisation_code_check_digit("60003734") == "1"


@pytest.mark.parametrize(
    ("text", "code"),
    [("I6510", "6510"), ("6513", "6513"), (" i 6513 ", "6513"), ("511", "0511"), ("Ｊ６６２１", "6621")],
)
def test_industry_codes_are_stored_as_four_digits(text: str, code: str) -> None:
    assert parse_industry_code(text) == code


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("J6513", "行业代码“J6513”的门类字母不符：大类“65”属于门类“I”"),
        ("9912", "行业代码“9912”无法识别：行业大类“99”不存在（应为 01–97）"),
        ("软件", "行业代码“软件”无法识别：应为国民经济行业小类代码，如“6513”或“I6513”"),
        ("65", "行业代码“65”无法识别：应为国民经济行业小类代码，如“6513”或“I6513”"),
    ],
)
def test_a_wrong_industry_code_is_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_industry_code(text)
    assert str(caught.value) == message


def test_the_industry_list_has_real_classes_in_the_right_sections() -> None:
    industries = load_industries()
    assert len(industries) >= 60
    assert industries["6513"].name == "应用软件开发"
    assert industries["6621"].section == "J"
    for code, industry in industries.items():
        assert len(code) == 4 and code.isdigit()
        assert SECTION_OF_DIVISION[code[:2]] == industry.section
    sections = {industry.section for industry in industries.values()}
    assert {"C", "F", "H", "I", "J", "K", "L", "M", "Q", "R"} <= sections


def test_names_are_compared_without_width_case_or_spaces() -> None:
    assert normalise_name("广州 ABC 有限公司（越秀）") == normalise_name("广州abc有限公司(越秀)")


# --- uploaded registers ---------------------------------------------------------------------------------

HEADER = list(COLUMNS)
FULL_ROW = {
    "统一社会信用代码": ALPHA.lower(),
    "企业名称": "广州越秀示例科技有限公司",
    "注册地所在区": "越秀区",
    "所在街道": "洪桥街道",
    "税务征管关系所在区": "越秀",
    "统计关系所在区": "广州市越秀区",
    "行业代码": "I6513",
    "企业类型": "有限责任公司（自然人投资或控股）",
    "外商投资企业": "否",
    "成立日期": "2015/3/2",
    "落户日期": "2016年5月1日",
    "上市日期": "",
    "小巨人认定日期": "",
    "注册资本": "50(万元人民币)",
    "实缴资本": "20万元",
    "从业人数": "36",
    "各月参保人数": "30，31、32,33,33,34,35,35,36,36,36,36",
    "上年度营业收入（万元）": "1234.5678",
    "前年营业收入（万元）": "1,000",
    "上年度纳税总额（万元）": "56.78",
    "上年度对区贡献（万元）": "11.2",
    "上年度研发费用（万元）": "0",
    "企业标签": "小微企业、高新技术企业，软件和信息技术服务企业",
    "信用状况": "",
}
FULL_ROW_PARSED = {
    "uscc": ALPHA,
    "name": "广州越秀示例科技有限公司",
    "district": "越秀区",
    "subdistrict": "洪桥街道",
    "tax_district": "越秀区",
    "stats_district": "越秀区",
    "industry_code": "6513",
    "enterprise_type": "有限责任公司（自然人投资或控股）",
    "foreign_invested": False,
    "established_on": date(2015, 3, 2),
    "settled_on": date(2016, 5, 1),
    "listed_on": None,
    "little_giant_on": None,
    "registered_capital": Decimal("500000.00"),
    "paid_in_capital": Decimal("200000.00"),
    "capital_currency": "CNY",
    "employees": 36,
    "insured_employees_monthly": [30, 31, 32, 33, 33, 34, 35, 35, 36, 36, 36, 36],
    "revenue": Decimal("12345678.00"),
    "revenue_prev": Decimal("10000000.00"),
    "tax_paid": Decimal("567800.00"),
    "district_contribution": Decimal("112000.00"),
    "rd_expense": Decimal("0.00"),
    "tags": ["高新技术企业", "小微企业", "软件和信息技术服务企业"],
    "credit_status": "良好",
    "is_synthetic": False,
}


def csv_bytes(rows: list[dict[str, str]], *, encoding: str, header: list[str] | None = None) -> bytes:
    header = header or HEADER
    return write_csv(header, [[row.get(name, "") for name in header] for row in rows], encoding=encoding)


def test_a_gb18030_csv_is_read_with_every_column_converted() -> None:
    second = {"统一社会信用代码": BETA, "企业名称": "广州另一家贸易有限公司", "信用状况": "一般失信"}
    result = read_registry(csv_bytes([FULL_ROW, second], encoding="gb18030"))

    assert result.errors == []
    assert result.name_clashes == []
    assert result.row_numbers == [2, 3]
    assert result.rows[0] == FULL_ROW_PARSED
    assert list(result.rows[0]) == list(ROW_FIELDS)
    assert result.rows[1] == dict.fromkeys(ROW_FIELDS) | {
        "uscc": BETA,
        "name": "广州另一家贸易有限公司",
        "tags": [],
        "credit_status": "一般失信",
        "is_synthetic": False,
    }
    assert result.columns == [name for name in ATTRIBUTES if name != "capital_currency"]
    assert result.ignored_columns == []


def test_a_utf8_csv_with_bom_accepts_half_width_brackets_aliases_and_reports_unknown_columns() -> None:
    header = ["统一社会信用代码", "企业名称", "上年度营业收入(万元)", "落户越秀日期", "备注"]
    row = {
        "统一社会信用代码": GAMMA,
        "企业名称": "广州天河示例有限公司",
        "上年度营业收入(万元)": "0.000001",
        "落户越秀日期": "20200102",
        "备注": "随便写",
    }
    result = read_registry(csv_bytes([row], encoding="utf-8-sig", header=header))

    assert result.errors == []
    assert result.rows[0]["revenue"] == Decimal("0.01")
    assert result.rows[0]["settled_on"] == date(2020, 1, 2)
    assert result.rows[0]["district"] is None  # no column: not known
    assert result.columns == ["uscc", "name", "settled_on", "revenue"]
    assert result.ignored_columns == ["备注"]


def test_an_xlsx_with_numbers_and_dates_in_cells_is_read() -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(
        ["统一社会信用代码", "企业名称", "成立日期", "从业人数", "上年度营业收入（万元）", "注册资本", "外商投资企业"]
    )
    sheet.append([ALPHA, "广州越秀示例科技有限公司", datetime(2019, 7, 8), 12, 2029.5, "800(万香港元)", "是"])
    sheet.append([BETA, "广州另一家贸易有限公司", None, 0, 0.1, None, None])
    output = io.BytesIO()
    workbook.save(output)

    result = read_registry(output.getvalue())

    assert result.errors == []
    first, second = result.rows
    assert first["established_on"] == date(2019, 7, 8)
    assert first["employees"] == 12
    assert first["revenue"] == Decimal("20295000.00")
    assert (first["registered_capital"], first["capital_currency"]) == (Decimal("8000000.00"), "HKD")
    assert first["foreign_invested"] is True
    assert second["revenue"] == Decimal("1000.00")
    assert second["employees"] == 0
    assert (second["registered_capital"], second["capital_currency"]) == (None, None)


def test_every_problem_of_every_row_is_reported_with_its_row_and_column() -> None:
    bad_check_digit = ALPHA[:-1] + ("0" if ALPHA[-1] != "0" else "1")
    rows = [
        FULL_ROW | {"统一社会信用代码": BETA},
        FULL_ROW
        | {
            "统一社会信用代码": bad_check_digit,
            "注册资本": "很多",
            "上年度营业收入（万元）": "-1",
            "企业标签": "高新技术企业、独角兽",
            "各月参保人数": "1,2,3",
            "信用状况": "差",
            "成立日期": "2015-02-30",
            "外商投资企业": "可能",
        },
        FULL_ROW
        | {
            "统一社会信用代码": GAMMA,
            "企业名称": "",
            "所在街道": "天河南街道",
            "落户日期": "2010-01-01",
            "企业类型": "有限责任公司" * 8,
        },
    ]
    result = read_registry(csv_bytes(rows, encoding="utf-8"))

    assert result.errors == [
        RowError(3, "统一社会信用代码", f"统一社会信用代码“{bad_check_digit}”校验位不正确：请逐位核对是否抄错"),
        RowError(3, "外商投资企业", "“可能”无法识别：请填写“是”或“否”"),
        RowError(3, "成立日期", "日期“2015-02-30”不存在：请核对月份和日期"),
        RowError(3, "注册资本", "无法识别注册资本“很多”：应为“50(万元人民币)”这样的金额和币种"),
        RowError(3, "各月参保人数", "各月参保人数应为1至12月共12个整数，用逗号或顿号分隔，现有 3 个"),
        RowError(3, "上年度营业收入（万元）", "无法识别金额“-1”：不能为负数"),
        RowError(3, "企业标签", f"未知的企业标签：独角兽（可用：{'、'.join(TAGS)}）"),
        RowError(3, "信用状况", "信用状况“差”无法识别：应为良好、一般失信、严重失信之一，空白表示良好"),
        RowError(4, "企业名称", "企业名称不能为空"),
        RowError(4, "企业类型", f"“{'有限责任公司' * 8}”过长：最多 40 个字"),
        RowError(4, "落户日期", "落户日期（2010-01-01）早于成立日期（2015-03-02）"),
        RowError(4, "所在街道", f"“天河南街道”不是越秀区的街道（越秀区的街道：{'、'.join(YUEXIU_SUBDISTRICTS)}）"),
    ]
    assert (
        str(result.errors[0])
        == f"第 3 行“统一社会信用代码”：统一社会信用代码“{bad_check_digit}”校验位不正确：请逐位核对是否抄错"
    )
    assert [row["uscc"] for row in result.rows] == [BETA]  # rows with errors are left out
    assert result.row_numbers == [2]


def test_the_little_giant_recognition_date_is_read_and_cannot_precede_establishment() -> None:
    # The 穗府办规〔2025〕13号 award pays firms newly recognised that year: the register carries the date.
    header = ["统一社会信用代码", "企业名称", "成立日期", "专精特新小巨人认定日期"]
    rows = [
        {"统一社会信用代码": ALPHA, "企业名称": "甲", "成立日期": "2015-03-02", header[3]: "2025年7月15日"},
        {"统一社会信用代码": BETA, "企业名称": "乙", "成立日期": "2015-03-02", header[3]: "2014-01-01"},
    ]
    result = read_registry(csv_bytes(rows, encoding="utf-8", header=header))

    assert result.rows[0]["little_giant_on"] == date(2025, 7, 15)
    assert result.errors == [
        RowError(3, "专精特新小巨人认定日期", "小巨人认定日期（2014-01-01）早于成立日期（2015-03-02）")
    ]


def test_a_uscc_repeated_in_the_file_is_an_error_on_the_later_row() -> None:
    rows = [
        {"统一社会信用代码": ALPHA, "企业名称": "广州甲有限公司"},
        {"统一社会信用代码": BETA, "企业名称": "广州乙有限公司"},
        {"统一社会信用代码": f" {ALPHA.lower()} ", "企业名称": "广州甲有限公司"},
    ]
    result = read_registry(csv_bytes(rows, encoding="utf-8", header=["统一社会信用代码", "企业名称"]))

    assert result.errors == [
        RowError(4, "统一社会信用代码", f"统一社会信用代码“{ALPHA}”与第 2 行重复：同一企业只能有一行")
    ]
    assert result.name_clashes == []  # the same enterprise twice is not a name clash


def test_one_name_under_two_usccs_is_a_warning_not_an_error() -> None:
    rows = [
        {"统一社会信用代码": ALPHA, "企业名称": "广州越秀示例（集团）有限公司"},
        {"统一社会信用代码": BETA, "企业名称": "广州乙有限公司"},
        {"统一社会信用代码": GAMMA, "企业名称": "广州越秀示例(集团)有限公司 "},
    ]
    result = read_registry(csv_bytes(rows, encoding="utf-8", header=["统一社会信用代码", "企业名称"]))

    assert result.errors == []
    assert result.name_clashes == [NameClash("广州越秀示例（集团）有限公司", (ALPHA, GAMMA), (2, 4))]
    assert result.name_clashes[0].message == (
        f"企业名称“广州越秀示例（集团）有限公司”对应多个统一社会信用代码（{ALPHA}、{GAMMA}，第 2、4 行）："
        "请核对是否填错"
    )
    assert len(result.rows) == 3


def test_a_name_stored_under_another_uscc_is_reported_against_the_database() -> None:
    rows = [
        {"统一社会信用代码": ALPHA, "企业名称": "广州甲有限公司"},
        {"统一社会信用代码": BETA, "企业名称": "广州乙有限公司"},
    ]
    imported = read_registry(csv_bytes(rows, encoding="utf-8", header=["统一社会信用代码", "企业名称"]))
    existing = {normalise_name("广州甲有限公司"): ALPHA, normalise_name("广州乙有限公司"): DELTA}

    assert name_clashes_with(existing, imported) == [NameClash("广州乙有限公司", (DELTA, BETA), (3,))]
    # Names as stored (not normalised) and bare rows work too; the file rows are then unknown.
    stored_names = {"广州甲有限公司": ALPHA, "广州 乙有限公司": DELTA}
    assert name_clashes_with(stored_names, imported.rows) == [NameClash("广州乙有限公司", (DELTA, BETA), ())]


def test_a_paid_in_capital_in_another_currency_is_an_error() -> None:
    row = {"统一社会信用代码": ALPHA, "企业名称": "广州甲有限公司", "注册资本": "100万美元", "实缴资本": "50万元"}
    result = read_registry(csv_bytes([row], encoding="utf-8", header=list(row)))

    assert result.errors == [RowError(2, "实缴资本", "实缴资本的币种（人民币）与注册资本的币种（美元）不一致")]


def test_a_file_without_the_required_columns_or_with_a_column_twice_is_refused() -> None:
    with pytest.raises(TableError, match="^缺少必填列：企业名称$"):
        read_registry("统一社会信用代码,企业简称\r\n91110000600037341L,甲\r\n".encode())
    with pytest.raises(TableError, match="^“所在街道”和“注册地所在街道”是同一列，请删除其中一列。$"):
        read_registry("统一社会信用代码,企业名称,所在街道,注册地所在街道\r\n".encode())


# --- synthetic register -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic() -> list[dict[str, object]]:
    return list(generate_synthetic(20_000, seed=2024, year=2025))


def test_the_synthetic_register_is_deterministic_for_a_seed_and_prefix_stable() -> None:
    first = list(generate_synthetic(300, seed=7))
    assert first == list(generate_synthetic(300, seed=7))
    assert first[:100] == list(generate_synthetic(100, seed=7))
    assert first != list(generate_synthetic(300, seed=8))


def test_synthetic_rows_carry_every_field_and_say_they_are_synthetic(synthetic: list[dict[str, object]]) -> None:
    for row in synthetic:
        assert tuple(row) == ROW_FIELDS
        assert row["is_synthetic"] is True
        assert str(row["name"]).endswith("（模拟）")


def test_synthetic_usccs_are_valid_unique_and_carry_the_district_code(synthetic: list[dict[str, object]]) -> None:
    usccs = [str(row["uscc"]) for row in synthetic]
    assert len(set(usccs)) == len(usccs)
    assert len({row["name"] for row in synthetic}) == len(synthetic)
    for uscc, row in zip(usccs, synthetic, strict=True):
        assert stdnum_uscc.is_valid(uscc), uscc
        assert uscc.startswith("91")
        assert (uscc[2:8] == "440104") == (row["district"] == "越秀区")
        assert organisation_code_check_digit(uscc[8:16]) == uscc[16]


def test_about_85_percent_are_registered_in_yuexiu_with_a_real_subdistrict(
    synthetic: list[dict[str, object]],
) -> None:
    in_yuexiu = [row for row in synthetic if row["district"] == "越秀区"]
    assert 0.82 <= len(in_yuexiu) / len(synthetic) <= 0.88
    assert {row["subdistrict"] for row in in_yuexiu} == set(YUEXIU_SUBDISTRICTS)
    elsewhere = [row for row in synthetic if row["district"] != "越秀区"]
    assert {row["district"] for row in elsewhere} <= {
        "天河区",
        "海珠区",
        "荔湾区",
        "白云区",
        "黄埔区",
        "番禺区",
        "花都区",
        "南沙区",
        "从化区",
        "增城区",
    }
    assert all(row["subdistrict"] is None and row["settled_on"] is None for row in elsewhere)
    same_tax = sum(row["tax_district"] == row["district"] for row in synthetic) / len(synthetic)
    assert 0.9 < same_tax < 0.99


def test_sizes_are_skewed_most_small_a_few_very_large(synthetic: list[dict[str, object]]) -> None:
    employees = [int(row["employees"]) for row in synthetic]  # type: ignore[call-overload]
    median, mean = statistics.median(employees), statistics.mean(employees)
    assert median <= 5
    assert mean >= 2 * median
    assert max(employees) >= 1000
    revenues = sorted(row["revenue"] for row in synthetic if row["revenue"] is not None)  # type: ignore[type-var]
    top_percent = revenues[-len(revenues) // 100 :]
    assert sum(top_percent) > sum(revenues) / 3  # the top 1% earn more than a third


def test_money_is_decimal_with_two_decimals_and_consistent(synthetic: list[dict[str, object]]) -> None:
    money = ["registered_capital", "paid_in_capital", "revenue", "revenue_prev", "tax_paid"]
    money += ["district_contribution", "rd_expense"]
    for row in synthetic:
        for name in money:
            value = row[name]
            assert value is None or (isinstance(value, Decimal) and value.as_tuple().exponent == -2 and value >= 0)
        if row["revenue"] is None:
            assert row["established_on"].year == 2025  # type: ignore[union-attr]
            continue
        assert row["tax_paid"] <= row["revenue"]  # type: ignore[operator]
        assert row["rd_expense"] <= row["revenue"]  # type: ignore[operator]
        if row["tax_district"] != "越秀区":
            assert row["district_contribution"] == 0
        assert row["district_contribution"] <= row["tax_paid"]  # type: ignore[operator]
        assert (row["registered_capital"] is None) == (row["capital_currency"] is None)
        assert row["capital_currency"] is None or row["capital_currency"] in CURRENCIES


def test_dates_are_in_order_and_only_listed_enterprises_have_a_listing_date(
    synthetic: list[dict[str, object]],
) -> None:
    for row in synthetic:
        established = row["established_on"]
        assert isinstance(established, date)
        assert date(1990, 1, 1) <= established <= date(2025, 12, 31)
        assert row["settled_on"] is None or established <= row["settled_on"] <= date(2025, 12, 31)  # type: ignore[operator]
        assert (row["listed_on"] is not None) == ("上市企业" in row["tags"])  # type: ignore[operator]
        assert row["listed_on"] is None or row["listed_on"] > established  # type: ignore[operator]
        assert (row["little_giant_on"] is not None) == ("专精特新小巨人" in row["tags"])  # type: ignore[operator]
        assert row["little_giant_on"] is None or (
            max(established, date(2019, 6, 1)) <= row["little_giant_on"] <= date(2025, 12, 31)  # type: ignore[operator]
        )
        monthly = row["insured_employees_monthly"]
        assert isinstance(monthly, list) and len(monthly) == 12 and all(count >= 0 for count in monthly)


def test_tags_are_valid_in_catalogue_order_and_at_realistic_rates(synthetic: list[dict[str, object]]) -> None:
    counts: Counter[str] = Counter()
    for row in synthetic:
        tags = row["tags"]
        assert isinstance(tags, list)
        assert tags == sorted(tags, key=TAGS.index)
        tags_to_mask(tags)  # raises for an unknown tag
        counts.update(tags)
        assert ("外资企业" in tags) == row["foreign_invested"]
        assert row["credit_status"] in CREDIT_STATUSES
        assert row["industry_code"] in load_industries()
    total = len(synthetic)
    assert 0.02 <= counts["高新技术企业"] / total <= 0.045
    assert 0.005 <= counts["专精特新中小企业"] / total <= 0.015
    assert counts["专精特新小巨人"] < counts["专精特新中小企业"] / 4
    assert 0.001 <= counts["总部企业"] / total <= 0.006
    assert counts["小微企业"] / total > 0.85
    credit = Counter(row["credit_status"] for row in synthetic)
    assert 0.02 <= credit["一般失信"] / total <= 0.04
    assert 0.002 <= credit["严重失信"] / total <= 0.009


def test_a_synthetic_register_written_as_a_csv_reads_back_unchanged(synthetic: list[dict[str, object]]) -> None:
    def wan(value: object) -> str:
        return "" if value is None else format(value / Decimal(10000), "f")  # type: ignore[operator]

    def capital(value: object, currency: object) -> str:
        return "" if value is None else f"{wan(value)}(万{CURRENCY_NAMES[str(currency)]})"

    sample = synthetic[:2000]
    cells = []
    for row in sample:
        cells.append(
            {
                "uscc": row["uscc"],
                "name": row["name"],
                "district": row["district"],
                "subdistrict": row["subdistrict"],
                "tax_district": row["tax_district"],
                "stats_district": row["stats_district"],
                "industry_code": row["industry_code"],
                "enterprise_type": row["enterprise_type"],
                "foreign_invested": "是" if row["foreign_invested"] else "否",
                "established_on": row["established_on"],
                "settled_on": row["settled_on"],
                "listed_on": row["listed_on"],
                "little_giant_on": row["little_giant_on"],
                "registered_capital": capital(row["registered_capital"], row["capital_currency"]),
                "paid_in_capital": capital(row["paid_in_capital"], row["capital_currency"]),
                "employees": row["employees"],
                "insured_employees_monthly": "、".join(map(str, row["insured_employees_monthly"])),  # type: ignore[call-overload]
                "revenue": wan(row["revenue"]),
                "revenue_prev": wan(row["revenue_prev"]),
                "tax_paid": wan(row["tax_paid"]),
                "district_contribution": wan(row["district_contribution"]),
                "rd_expense": wan(row["rd_expense"]),
                "tags": "、".join(row["tags"]),  # type: ignore[arg-type]
                "credit_status": row["credit_status"],
            }
        )
    data = write_csv(HEADER, [[cell[COLUMNS[header]] for header in HEADER] for cell in cells])

    result = read_registry(data)

    assert result.errors == []
    assert result.name_clashes == []
    assert result.rows == [row | {"is_synthetic": False} for row in sample]


def test_a_registry_import_starts_empty() -> None:
    assert RegistryImport() == RegistryImport(rows=[], row_numbers=[], errors=[], name_clashes=[])


def test_an_impossible_size_or_year_is_refused_at_the_call() -> None:
    with pytest.raises(ValueError, match="^n must be between 0 and 4657463$"):
        generate_synthetic(-1)
    with pytest.raises(ValueError, match="^year must be between 2000 and 2100$"):
        generate_synthetic(10, year=1995)
