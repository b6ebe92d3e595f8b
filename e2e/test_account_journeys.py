"""Accounts in a real Chromium: a staff member enrols an authenticator app and logs in again with
it; a citizen who forgot the password sets a new one with the code sent by SMS; a citizen locked out
by wrong passwords unlocks with an SMS code and then changes the password."""

from __future__ import annotations

from base64 import b32decode
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django_otp.oath import totp
from playwright.sync_api import Page, expect

from e2e.conftest import check_accessibility
from e2e.test_journeys import log_in
from yuexiu.core import crypto
from yuexiu.core.models import OutboxMessage

pytestmark = pytest.mark.e2e

JUNE_MORNING = datetime(2025, 6, 18, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_a_staff_member_enrols_two_factor_logs_out_and_logs_in_again(page: Page, site: str, settings):
    settings.TWO_FACTOR_REQUIRED_FOR_STAFF = True
    with time_machine.travel(JUNE_MORNING, tick=True) as traveller:
        log_in(page, site, "window_centre")
        expect(page.get_by_role("heading", name="两步验证")).to_be_visible()
        secret = page.locator("p", has_text="手动输入密钥").locator("code").inner_text()
        page.get_by_label("验证码").fill(f"{totp(b32decode(secret)):06d}")
        page.get_by_role("button", name="确认启用").click()
        expect(page.get_by_text("两步验证已启用。")).to_be_visible()
        page.get_by_role("button", name="退出登录").click()

        traveller.shift(timedelta(seconds=60))  # the next login, with the code the app shows then
        log_in(page, site, "window_centre")
        expect(page.get_by_label("动态码")).to_be_visible()
        check_accessibility(page, "两步验证")
        page.get_by_label("动态码").fill("000000" if totp(b32decode(secret)) != 0 else "111111")
        page.get_by_role("button", name="验证").click()
        expect(page.get_by_text("动态码不正确或已过期")).to_be_visible()
        traveller.shift(timedelta(seconds=2))  # past the pause after a wrong code
        page.get_by_label("动态码").fill(f"{totp(b32decode(secret)):06d}")
        page.get_by_role("button", name="验证").click()
        expect(page.get_by_role("heading", name="工作台")).to_be_visible()


def test_a_citizen_who_forgot_the_password_sets_a_new_one_with_the_sms_code(page: Page, site: str):
    new_password = "Xin-mima#2025"
    with time_machine.travel(JUNE_MORNING, tick=True):
        page.goto(f"{site}/accounts/login/")
        page.get_by_role("link", name="忘记密码？找回密码").click()
        check_accessibility(page, "找回密码")
        page.get_by_label("用户名").fill("ｃｉｔｉｚｅｎ_demo")  # typed with a full-width input method
        page.get_by_label("注册时登记的手机号").fill("13800138000")
        page.get_by_role("button", name="获取验证码").click()
        expect(page.get_by_text("验证码已通过短信发送到该手机")).to_be_visible()
        check_accessibility(page, "设置新密码")

        sms = OutboxMessage.objects.get(topic="account.password_reset", phone_digest=crypto.digest("13800138000"))
        code = sms.body.split("验证码 ")[1][:6]
        page.get_by_label("短信验证码").fill(code)
        page.get_by_label("新密码", exact=True).fill(new_password)
        page.get_by_label("再次输入新密码").fill(new_password)
        page.get_by_role("button", name="重置密码").click()
        expect(page.get_by_text("密码已重置，请用新密码登录。")).to_be_visible()

        page.get_by_label("用户名").fill("citizen_demo")
        page.get_by_label("密码").fill(new_password)
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("button", name="退出登录")).to_be_visible()


def test_a_locked_out_citizen_unlocks_with_the_sms_code_and_changes_the_password(page: Page, site: str, password):
    new_password = "Xin-mima#2026"
    with time_machine.travel(JUNE_MORNING, tick=True):
        page.goto(f"{site}/accounts/login/")
        for _ in range(5):
            page.get_by_label("用户名").fill("citizen_demo")
            page.get_by_label("密码").fill("Wrong-pass-123")
            page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("heading", name="账号已临时锁定")).to_be_visible()
        page.get_by_role("link", name="通过注册手机接收验证码立即解锁").click()
        check_accessibility(page, "解除登录锁定")
        page.get_by_label("用户名").fill("citizen_demo")
        page.get_by_label("注册时登记的手机号").fill("13800138000")
        page.get_by_role("button", name="获取验证码").click()
        expect(page.get_by_text("验证码已通过短信发送到该手机")).to_be_visible()
        check_accessibility(page, "输入验证码解锁")
        sms = OutboxMessage.objects.get(topic="account.unlock", phone_digest=crypto.digest("13800138000"))
        page.get_by_label("短信验证码").fill(sms.body.split("验证码 ")[1][:6])
        page.get_by_role("button", name="解锁").click()
        expect(page.get_by_text("账号已解锁，请登录。")).to_be_visible()

        page.get_by_label("用户名").fill("citizen_demo")
        page.get_by_label("密码").fill(password)
        page.get_by_role("button", name="登录").click()
        page.goto(f"{site}/accounts/profile/")
        page.get_by_role("link", name="修改密码").click()
        check_accessibility(page, "修改密码")
        page.get_by_label("当前密码").fill(password)
        page.get_by_label("新密码", exact=True).fill(new_password)
        page.get_by_label("再次输入新密码").fill(new_password)
        page.get_by_role("button", name="修改密码").click()
        expect(page.get_by_text("密码已修改。其他设备上的登录已退出。")).to_be_visible()
