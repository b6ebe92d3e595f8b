"""The platform's one money reader: amounts written with units as people and registers write them,
ambiguous ones refused in Chinese (yuexiu.core.money)."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest

from yuexiu.core.money import MoneyError, format_readable, read_money, read_yuan


@pytest.mark.parametrize(
    ("typed", "yuan"),
    [
        ("60万元", "600000.00"),
        ("60 万", "600000.00"),
        ("60万", "600000.00"),
        ("1.5亿元", "150000000.00"),
        ("600,000元", "600000.00"),
        ("¥600,000", "600000.00"),
        ("￥60万元整", "600000.00"),
        ("人民币60万元", "600000.00"),
        ("６０万元", "600000.00"),
        ("60 000元", "60000.00"),
        ("5千元", "5000.00"),
        ("0.5万元", "5000.00"),
        ("12,000.50元", "12000.50"),
    ],
)
def test_an_amount_written_with_its_unit_is_read_exactly(typed, yuan):
    amount = read_yuan(typed)
    assert (str(amount), type(amount)) == (yuan, Decimal)


def test_a_bare_number_is_read_in_the_unit_the_field_states_and_refused_where_none_is_stated():
    assert read_yuan("600000", unit="元") == Decimal("600000.00")
    assert read_yuan("123.45", unit="万元") == Decimal("1234500.00")
    assert read_yuan("1,234,567元", unit="万元") == Decimal("1234567.00")  # the unit written wins
    with pytest.raises(MoneyError) as refused:
        read_yuan("600000")
    assert refused.value.message == "无法识别金额“600000”：未注明单位，请写成“600000万元”或“600000元”"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("60万5000元", "无法识别核定金额“60万5000元”：应为“60万元”这样的金额"),
        ("50万至100万元", "无法识别核定金额“50万至100万元”：应为“60万元”这样的金额"),
        ("1万亿元", "无法识别核定金额“1万亿元”：应为“60万元”这样的金额"),
        ("约60万", "无法识别核定金额“约60万”：应为“60万元”这样的金额"),
        ("1,2345元", "无法识别核定金额“1,2345元”：千分位逗号应每三位一组，如“1,200,000元”"),
        ("12,00", "无法识别核定金额“12,00”：千分位逗号应每三位一组，如“1,200,000元”"),
        ("1 2元", "无法识别核定金额“1 2元”：数字中间不能有空格"),
        ("60万美元", "无法识别核定金额“60万美元”：只能填写人民币金额"),
        ("六十万元", "无法识别核定金额“六十万元”：请用阿拉伯数字填写金额，如“100万元”"),
        ("-5万元", "无法识别核定金额“-5万元”：不能为负数"),
        ("0.001元", "无法识别核定金额“0.001元”：金额最多精确到分"),
        ("1e5", "无法识别核定金额“1e5”：应为“60万元”这样的金额"),
        ("NaN", "无法识别核定金额“NaN”：应为“60万元”这样的金额"),
        ("10000亿元", "无法识别核定金额“10000亿元”：金额过大"),
        ("", "请填写核定金额"),
    ],
)
def test_ambiguous_or_impossible_amounts_are_refused_in_chinese(typed, message):
    with pytest.raises(MoneyError) as refused:
        read_yuan(typed, label="核定金额", unit="元")
    assert (refused.value.message, refused.value.text) == (message, typed)


def test_a_register_may_give_another_currency_but_a_person_typing_yuan_may_not():
    assert read_money("800(万香港元)") == (Decimal("8000000.00"), "HKD")
    assert read_money("N/A") == (None, None)
    with pytest.raises(MoneyError, match="币种无法识别"):
        read_money("50万卢布")


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("52000000", "5,200万元"),
        ("12345600", "1,234.56万元"),
        ("69601.61", "69,601.61元"),
        ("12345678.90", "12,345,678.90元"),
    ],
)
def test_amounts_are_shown_in_wan_where_that_is_exact(amount, text):
    assert format_readable(Decimal(amount)) == text


def test_the_money_reader_imports_no_django():
    code = "import sys, yuexiu.core.money; print(sorted(m for m in sys.modules if m.startswith('django')))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"
