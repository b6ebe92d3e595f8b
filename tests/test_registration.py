"""Registration says everything that is wrong at once, under each field, in our own Chinese wording
(not Django's stock sentences for required fields, password validators or unique names)."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.forms import field_errors
from yuexiu.core.models import User

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


@pytest.fixture
def frozen_clock():
    with time_machine.travel(datetime(2025, 6, 18, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield


def test_a_citizen_form_with_five_problems_shows_all_five_at_once(client, reference_data):
    response = client.post(
        "/accounts/register/",
        {"account_type": "citizen", "username": "li ming", "full_name": "", "id_number": "110105194912310021",
         "phone": "12345", "password": "12345678"},
    )  # fmt: skip
    assert response.status_code == 200
    assert field_errors(response.content.decode()) == {
        "username": ["用户名只能包含字母、数字和 @ . + - _ 符号，不能有空格。"],
        "full_name": ["请填写姓名。"],
        "id_number": ["身份证号码无效：请检查是否为 18 位且校验位正确。"],
        "phone": ["手机号码无效：应为 11 位中国大陆手机号。"],
        "password": [
            "密码太短：至少需要 10 个字符。",
            "密码过于常见，容易被猜中，请换一个。",
            "密码不能全部是数字。",
            "密码太简单：须同时包含大写字母、小写字母、数字、符号中的至少 3 类。",
        ],
    }
    assert not User.objects.filter(username="li ming").exists()


def test_an_empty_form_asks_for_every_required_field_in_our_words(client, reference_data):
    page = client.post("/accounts/register/", {"account_type": "citizen"}).content.decode()
    assert field_errors(page) == {
        "username": ["请填写用户名。"],
        "full_name": ["请填写姓名。"],
        "id_number": ["请填写身份证号。"],
        "password": ["请设置密码。"],
    }
    assert "这个字段是必填项" not in page  # Django's stock sentence


def test_an_enterprise_form_reports_a_taken_name_a_bad_code_and_a_password_like_the_name(client, cast):
    response = client.post(
        "/accounts/register/",
        {"account_type": "enterprise", "username": "Ｅｎｔｅｒｐｒｉｓｅ_demo", "full_name": "经办人",
         "enterprise_name": "", "enterprise_uscc": "91440104712421962D", "phone": "",
         "password": "Enterprise_Demo1"},
    )  # fmt: skip
    assert field_errors(response.content.decode()) == {
        "username": ["该用户名已被注册（不区分大小写和全角半角），请换一个。"],
        "enterprise_name": ["请填写企业名称。"],
        "enterprise_uscc": ["统一社会信用代码无效：应为 18 位，且末位校验码正确（GB 32100-2015）。"],
        "password": ["密码与用户名、姓名等个人信息过于相似，请换一个。"],
    }


def test_a_too_long_name_is_refused_with_its_limit_and_the_other_input_kept(client, reference_data, password):
    response = client.post(
        "/accounts/register/",
        {"account_type": "citizen", "username": "x" * 151, "full_name": "新用户", "id_number": "11010519491231002X",
         "phone": "13800138000", "password": password},
    )  # fmt: skip
    page = response.content.decode()
    assert field_errors(page) == {"username": ["用户名不能超过 150 个字符（现为 151 个）。"]}
    assert 'value="11010519491231002X"' in page and 'value="13800138000"' in page


def test_no_error_on_the_page_is_in_english(client, reference_data):
    page = client.post(
        "/accounts/register/",
        {"account_type": "enterprise", "username": "a b", "password": "password"},
    ).content.decode()
    errors = [text for texts in field_errors(page).values() for text in texts]
    assert len(errors) == 7
    assert not [text for text in errors if re.search(r"[A-Za-z]{3,}", text.replace("GB", ""))]
