"""Two-factor login for staff (GB/T 22239-2019 level 3: two authentication techniques), driven
through the real pages: enrol an authenticator app, log out, log in again with its code."""

from __future__ import annotations

import re
from base64 import b32decode
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.forms import own_post_form
from yuexiu.core.models import AuditEvent

pytestmark = pytest.mark.django_db

JUNE_MORNING = datetime(2025, 6, 18, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def code_from_page_key(page: str) -> str:
    """What an authenticator app shows for the key printed on the enrolment page (RFC 6238: SHA-1,
    30-second steps, 6 digits)."""
    secret = re.search(r"<code>([A-Z2-7=]+)</code>", page).group(1)  # type: ignore[union-attr]
    return f"{totp(b32decode(secret)):06d}"


def submit_own_form(client, path: str, **typed: str):
    """GET ``path`` and POST its form as a browser would: every field the page renders (hidden ones
    with their values) plus what the person types into the visible fields."""
    form = own_post_form(client.get(path).content.decode())
    assert set(typed) <= set(form.typed), form
    return client.post(path, {**form.fields, **typed})


def error_texts(page: str) -> list[str]:
    """Every error shown on a page (field errors and the form's own)."""
    return re.findall(r'<p class="field-error"[^>]*>([^<]*)</p>', page) + re.findall(
        r'<div class="message message-error"[^>]*>(?:<p>)?([^<]*)', page
    )


def only_typed_field(client, path: str) -> str:
    [name] = own_post_form(client.get(path).content.decode()).typed
    return name


def test_a_staff_member_enrols_logs_out_and_logs_in_again_with_the_app_code(client, cast, password, settings):
    settings.TWO_FACTOR_REQUIRED_FOR_STAFF = True
    with time_machine.travel(JUNE_MORNING, tick=False) as traveller:
        client.post("/accounts/login/", {"username": "window_centre", "password": password})
        enrolment = client.get("/accounts/two-factor/").content.decode()
        token_field = only_typed_field(client, "/accounts/two-factor/")
        response = submit_own_form(client, "/accounts/two-factor/", **{token_field: code_from_page_key(enrolment)})
        assert response.status_code == 302
        assert TOTPDevice.objects.get(user=cast["window_centre"]).confirmed is True
        client.post("/accounts/logout/")

        traveller.shift(timedelta(seconds=60))  # a later login: the app shows a new code
        client.post("/accounts/login/", {"username": "window_centre", "password": password})
        assert client.get("/workbench/").url == "/accounts/two-factor/?next=%2Fworkbench%2F"
        token_field = only_typed_field(client, "/accounts/two-factor/")
        response = submit_own_form(client, "/accounts/two-factor/", **{token_field: code_from_page_key(enrolment)})

        assert response.status_code == 302
        assert response.url == "/workbench/"
        assert client.get("/workbench/").status_code == 200
    assert AuditEvent.objects.filter(action="auth.two_factor_verified", actor=cast["window_centre"]).count() == 1


def test_a_wrong_code_is_refused_in_chinese_and_the_right_one_then_works(client, cast, password):
    officer = cast["window_hongqiao"]
    device = TOTPDevice.objects.create(user=officer, name="手机", confirmed=True)
    with time_machine.travel(JUNE_MORNING, tick=False) as traveller:
        client.post("/accounts/login/", {"username": "window_hongqiao", "password": password})
        right = f"{totp(device.bin_key):06d}"
        wrong = f"{(int(right) + 1) % 1_000_000:06d}"
        token_field = only_typed_field(client, "/accounts/two-factor/")

        refused = submit_own_form(client, "/accounts/two-factor/", **{token_field: wrong})
        page = refused.content.decode()
        assert refused.status_code == 200
        assert "动态码不正确或已过期" in page
        assert error_texts(page) == [
            "动态码不正确或已过期，请输入身份验证器中当前显示的 6 位数字（每个动态码只能使用一次）。"
        ]
        assert client.get("/workbench/").url == "/accounts/two-factor/?next=%2Fworkbench%2F"

        traveller.shift(timedelta(seconds=2))  # past django-otp's one-second pause after a failure
        accepted = submit_own_form(client, "/accounts/two-factor/", **{token_field: right})
        assert accepted.status_code == 302
    assert AuditEvent.objects.filter(action="auth.two_factor_failed", actor=officer).count() == 1


def test_an_immediate_retry_after_a_wrong_code_is_asked_to_wait_in_chinese(client, cast, password):
    officer = cast["window_hongqiao"]
    device = TOTPDevice.objects.create(user=officer, name="手机", confirmed=True)
    with time_machine.travel(JUNE_MORNING, tick=False):
        client.force_login(officer)
        right = f"{totp(device.bin_key):06d}"
        client.post("/accounts/two-factor/", {"token": "000000" if right != "000000" else "111111"})
        page = client.post("/accounts/two-factor/", {"token": right}).content.decode()
    assert error_texts(page) == ["动态码错误次数过多，请 1 秒后再试。"]


def test_full_width_digits_from_an_input_method_are_accepted(client, cast):
    officer = cast["window_hongqiao"]
    device = TOTPDevice.objects.create(user=officer, name="手机", confirmed=True)
    with time_machine.travel(JUNE_MORNING, tick=False):
        client.force_login(officer)
        full_width = f"{totp(device.bin_key):06d}".translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        assert client.post("/accounts/two-factor/", {"token": full_width}).status_code == 302


def test_after_the_code_the_officer_lands_on_the_page_they_asked_for(client, cast, password):
    officer = cast["window_hongqiao"]
    device = TOTPDevice.objects.create(user=officer, name="手机", confirmed=True)
    with time_machine.travel(JUNE_MORNING, tick=False) as traveller:
        client.post("/accounts/login/", {"username": "window_hongqiao", "password": password})
        asked = client.get("/workbench/cases/?status=accepted")
        assert asked.url == "/accounts/two-factor/?next=%2Fworkbench%2Fcases%2F%3Fstatus%3Daccepted"
        response = client.post(asked.url, {"token": f"{totp(device.bin_key):06d}"})
        assert response.status_code == 302 and response.url == "/workbench/cases/?status=accepted"

        client.post("/accounts/logout/")
        traveller.shift(timedelta(seconds=60))
        client.post("/accounts/login/", {"username": "window_hongqiao", "password": password})
        outside = client.post(
            "/accounts/two-factor/?next=https://evil.example/", {"token": f"{totp(device.bin_key):06d}"}
        )
        assert outside.status_code == 302 and outside.url == "/workbench/"
