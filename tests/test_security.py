"""Security baseline (GB/T 22239-2019 level 3, application layer)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from yuexiu.core.models import AuditEvent

pytestmark = pytest.mark.django_db

PRODUCTION_ENV = {
    "YUEXIU_MODE": "production",
    "SECRET_KEY": "k3y-Fr0m-the-vault-9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a",
    "ALLOWED_HOSTS": "zwfw.yuexiu.example.cn",
    "DATABASE_URL": "postgres://yuexiu@127.0.0.1:5432/yuexiu",
    "DATA_ENCRYPTION_KEYS": "1:MDEyMzQ1Njc4OWFiY2RlZg==",
    "DATA_DIGEST_KEY": "ZGlnZXN0LWtleS1mb3ItdGVzdHMtb25seS0wMTIzNDU2Nzg5",
}


def run_manage(*args: str, extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "YUEXIU_MODE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(extra_env)
    return subprocess.run(
        [sys.executable, "-m", "yuexiu.cli", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_five_wrong_passwords_lock_the_account_and_the_lockout_is_audited(client, cast, password):
    for _ in range(5):
        client.post("/accounts/login/", {"username": "citizen_demo", "password": "Wrong-pass-123"})
    response = client.post("/accounts/login/", {"username": "citizen_demo", "password": password})
    assert response.status_code == 429
    assert "账号已临时锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # five wrong passwords, then the right one refused while locked
    assert AuditEvent.objects.filter(action="auth.login_failed").count() == 6
    assert AuditEvent.objects.filter(action="auth.locked_out", actor_username="citizen_demo").exists()


def test_a_wrong_password_gets_a_chinese_message(client, cast):
    response = client.post("/accounts/login/", {"username": "citizen_demo", "password": "Wrong-pass-123"})
    assert "用户名或密码错误" in response.content.decode()


def test_sessions_expire_after_30_idle_minutes():
    assert django_settings.SESSION_COOKIE_AGE == 30 * 60
    assert django_settings.SESSION_SAVE_EVERY_REQUEST is True


def test_responses_carry_security_headers(client, reference_data):
    response = client.get("/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "same-origin"


def test_staff_with_a_device_must_pass_the_totp_step(client, cast, password):
    officer = cast["window_hongqiao"]
    device = TOTPDevice.objects.create(user=officer, name="手机", confirmed=True)
    client.post("/accounts/login/", {"username": "window_hongqiao", "password": password})
    assert client.get("/workbench/").url == "/accounts/two-factor/?next=%2Fworkbench%2F"
    assert client.get("/api/v1/me").json()["code"] == "two_factor_required"
    token = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    response = client.post("/accounts/two-factor/", {"token": f"{token:06d}"})
    assert response.status_code == 302
    assert client.get("/workbench/").status_code == 200


def test_staff_without_a_device_must_enrol_when_two_factor_is_required(client, cast, password, settings):
    settings.TWO_FACTOR_REQUIRED_FOR_STAFF = True
    client.post("/accounts/login/", {"username": "window_hongqiao", "password": password})
    assert client.get("/workbench/").url == "/accounts/two-factor/?next=%2Fworkbench%2F"
    page = client.get("/accounts/two-factor/").content.decode()
    assert "<svg" in page and "确认启用" in page
    device = TOTPDevice.objects.get(user=cast["window_hongqiao"], confirmed=False)
    token = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    client.post("/accounts/two-factor/", {"token": f"{token:06d}"})
    assert TOTPDevice.objects.get(pk=device.pk).confirmed is True
    assert client.get("/workbench/").status_code == 200


def test_a_wrong_enrolment_code_is_refused_in_chinese_and_audited(client, cast, settings):
    settings.TWO_FACTOR_REQUIRED_FOR_STAFF = True
    client.force_login(cast["window_hongqiao"])
    client.get("/accounts/two-factor/")
    device = TOTPDevice.objects.get(user=cast["window_hongqiao"])
    token = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    wrong = f"{(token + 1) % 1_000_000:06d}"
    assert "验证码不正确" in client.post("/accounts/two-factor/", {"token": wrong}).content.decode()
    assert TOTPDevice.objects.get(pk=device.pk).confirmed is False
    assert AuditEvent.objects.filter(action="auth.two_factor_failed").count() == 1


def test_citizens_are_not_asked_for_totp(client, cast, settings):
    settings.TWO_FACTOR_REQUIRED_FOR_STAFF = True
    client.force_login(cast["citizen_demo"])
    assert client.get("/accounts/profile/").status_code == 200


def test_citizens_cannot_open_the_workbench(client, cast):
    client.force_login(cast["citizen_demo"])
    assert client.get("/workbench/").status_code == 403


def test_production_refuses_to_start_with_the_embedded_secret():
    result = run_manage("check", extra_env={**PRODUCTION_ENV, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "生产模式配置不安全，拒绝启动" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_sqlite_and_debug():
    result = run_manage("check", extra_env={**PRODUCTION_ENV, "DATABASE_URL": "sqlite:///x.sqlite3", "DEBUG": "1"})
    assert result.returncode != 0
    assert "必须使用 PostgreSQL" in result.stderr
    assert "DEBUG" in result.stderr


def test_production_refuses_an_audit_retention_shorter_than_six_months_of_184_days():
    result = run_manage("check", extra_env={**PRODUCTION_ENV, "AUDIT_RETENTION_DAYS": "183"})
    assert result.returncode != 0
    assert "AUDIT_RETENTION_DAYS 不得少于 184 天" in result.stderr


def test_check_deploy_is_clean_under_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", extra_env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
