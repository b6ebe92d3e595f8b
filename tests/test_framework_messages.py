"""Refusals that come from the frameworks (CSRF, an unreadable request, a method not allowed, 404 and
500) reach people in Chinese: on pages as the error page, under /api/ in the API's error shape."""

from __future__ import annotations

import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.http import Http404
from django.test import Client, RequestFactory
from ninja.errors import AuthorizationError, Throttled

from yuexiu.api import api
from yuexiu.core import views

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


@pytest.fixture
def frozen_clock():
    with time_machine.travel(datetime(2025, 6, 18, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield


def page_message(response) -> tuple[str, str]:
    """The error page's title and message."""
    html = response.content.decode()
    title = re.search(r"<h1>([^<]*)</h1>", html).group(1)  # type: ignore[union-attr]
    message = re.search(r'<p class="message message-error">([^<]*)</p>', html).group(1)  # type: ignore[union-attr]
    return title, message


def test_a_form_posted_without_its_security_token_gets_a_chinese_page(cast):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/register/", {"username": "x"})
    assert response.status_code == 403
    title, message = page_message(response)
    assert title == "安全校验未通过"
    assert message.startswith("安全校验未通过：页面可能已过期。请刷新页面后重新提交")
    assert "DEBUG" not in response.content.decode()


def test_an_api_write_without_the_csrf_token_is_refused_in_chinese(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast["policy_kgsxj"])
    response = client.post("/api/v1/policies/runs", data="{}", content_type="application/json")
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "csrf_failed"
    assert "X-CSRFToken" in body["message"] and body["message"].startswith("安全校验未通过")


def test_an_api_body_that_is_not_json_is_explained_in_chinese(client, cast):
    client.force_login(cast["policy_kgsxj"])
    response = client.post("/api/v1/policies/runs", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_body",
        "message": "请求内容无法解析：应为合法的 JSON，并设置 Content-Type: application/json。",
        "details": {},
    }


def test_a_page_opened_with_the_wrong_method_says_so_in_chinese(client, reference_data):
    response = client.get("/accessibility/elder-mode/")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert page_message(response) == ("请求方式不支持", "该地址不支持 GET 请求（可用：POST）。")


def test_an_api_call_with_the_wrong_method_gets_the_error_shape(client, reference_data):
    response = client.delete("/api/v1/organisations")
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert json.loads(response.content) == {
        "code": "method_not_allowed",
        "message": "该地址不支持 DELETE 请求（可用：GET）。",
        "details": {"allowed": ["GET"]},
    }


def test_a_request_with_too_many_fields_is_refused_in_chinese(client, cast, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    fields = {f"field{number}": "x" for number in range(10)}
    page = client.post("/accounts/register/", fields)
    assert page.status_code == 400
    assert page_message(page) == ("请求有误", "提交的字段或文件数量过多，请减少后分次提交。")
    api_response = client.get("/api/v1/organisations", fields)
    assert api_response.status_code == 400
    assert api_response.json() == {
        "code": "too_many_fields",
        "message": "提交的字段或文件数量过多，请减少后分次提交。",
        "details": {},
    }


def test_server_errors_and_missing_pages_are_chinese_on_pages_and_json_under_the_api(reference_data):
    factory = RequestFactory()
    assert json.loads(views.server_error(factory.get("/api/v1/organisations")).content) == {
        "code": "server_error",
        "message": "系统繁忙，请稍后再试。",
        "details": {},
    }
    missing = Client().get("/no-such-page/")
    assert (missing.status_code, page_message(missing)) == (404, ("页面不存在", "页面不存在，请检查地址。"))
    assert Client().get("/api/v1/no-such-endpoint").json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("error", "status", "code", "message"),
    [
        (Http404(), 404, "not_found", "请求的内容不存在，请检查地址。"),
        (Throttled(5), 429, "too_many_requests", "请求过于频繁，请稍后再试。"),
        (AuthorizationError(), 403, "permission_denied", "您没有权限进行此操作。"),
    ],
)
def test_ninjas_own_english_refusals_come_out_in_chinese(error, status, code, message):
    response = api.on_exception(RequestFactory().get("/api/v1/x"), error)
    assert response.status_code == status
    assert json.loads(response.content) == {"code": code, "message": message, "details": {}}
