"""找回密码: a one-time code by SMS (the platform's outbox) to the registered phone; it expires, serves
once, is rate limited and audited, and the pages never reveal whether an account exists."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.forms import field_errors
from yuexiu.core.models import AuditEvent, OutboxMessage

pytestmark = pytest.mark.django_db

JUNE_MORNING = datetime(2025, 6, 18, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
NEW_PASSWORD = "Xin-mima#2025"
REFUSED = "验证码不正确、已使用或已过期，请核对，或重新获取验证码。"


@pytest.fixture
def clock():
    with time_machine.travel(JUNE_MORNING, tick=False) as traveller:
        yield traveller


def ask_for_code(client, username: str = "citizen_demo", phone: str = "13800138000"):
    return client.post("/accounts/password-reset/", {"username": username, "phone": phone}, follow=True)


def last_code() -> str:
    message = OutboxMessage.objects.filter(topic="account.password_reset").latest("created_at", "id")
    return re.search(r"验证码 (\d{6})", message.body).group(1)  # type: ignore[union-attr]


def set_password(client, code: str, password: str = NEW_PASSWORD, username: str = "citizen_demo"):
    return client.post(
        "/accounts/password-reset/confirm/",
        {"username": username, "code": code, "new_password": password, "new_password_again": password},
    )


def test_a_citizen_sets_a_new_password_with_the_code_sent_to_the_registered_phone(client, cast, password, clock):
    assert 'href="/accounts/password-reset/"' in client.get("/accounts/login/").content.decode()
    page = ask_for_code(client)
    assert page.redirect_chain == [("/accounts/password-reset/confirm/", 302)]
    assert 'value="citizen_demo"' in page.content.decode()  # the username carried to step 2
    [sms] = OutboxMessage.objects.filter(topic="account.password_reset")
    assert (sms.phone, sms.recipient) == ("13800138000", cast["citizen_demo"])
    assert "15 分钟内有效" in sms.body

    response = set_password(client, last_code())
    assert response.status_code == 302 and response.url == "/accounts/login/"
    assert client.post("/accounts/login/", {"username": "citizen_demo", "password": password}).status_code == 200
    assert client.post("/accounts/login/", {"username": "citizen_demo", "password": NEW_PASSWORD}).status_code == 302
    assert OutboxMessage.objects.filter(topic="account.password_changed", recipient=cast["citizen_demo"]).count() == 1
    assert list(
        AuditEvent.objects.filter(action__startswith="account.password_reset")
        .order_by("id")
        .values_list("action", "outcome")
    ) == [("account.password_reset_requested", "succeeded"), ("account.password_reset", "succeeded")]


def test_the_page_answers_the_same_for_an_unknown_account_or_a_wrong_phone(client, cast, clock):
    answers = []
    for username, phone in [
        ("citizen_demo", "13800138000"),
        ("nobody_here", "13800138000"),
        ("citizen_demo", "13900000000"),
    ]:  # noqa: E501
        client.cookies.clear()
        response = ask_for_code(client, username, phone)
        page = response.content.decode()
        answers.append((response.redirect_chain, re.findall(r'class="message message-success">([^<]*)<', page)))
        clock.shift(timedelta(minutes=2))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][1] == ["如果账号和手机号与登记的一致，验证码已通过短信发送到该手机，15 分钟内有效。"]
    assert OutboxMessage.objects.filter(topic="account.password_reset").count() == 1
    outcomes = AuditEvent.objects.filter(action="account.password_reset_requested").values_list("outcome", flat=True)
    assert sorted(outcomes) == ["failed", "failed", "succeeded"]


def test_a_code_expires_after_fifteen_minutes(client, cast, clock):
    ask_for_code(client)
    code = last_code()
    clock.shift(timedelta(minutes=15, seconds=1))
    response = set_password(client, code)
    assert field_errors(response.content.decode()) == {"code": [REFUSED]}


def test_a_code_serves_once(client, cast, clock):
    ask_for_code(client)
    code = last_code()
    assert set_password(client, code).status_code == 302
    assert field_errors(set_password(client, code, "Another#Pass2025").content.decode()) == {"code": [REFUSED]}


def test_five_wrong_codes_spend_the_code(client, cast, password, clock):
    ask_for_code(client)
    code = last_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert field_errors(set_password(client, wrong).content.decode()) == {"code": [REFUSED]}
    assert field_errors(set_password(client, code).content.decode()) == {"code": [REFUSED]}
    assert client.post("/accounts/login/", {"username": "citizen_demo", "password": password}).status_code == 302


def test_a_newer_code_ends_the_older_one(client, cast, clock, monkeypatch):
    codes = iter([111111, 222222])
    monkeypatch.setattr("yuexiu.core.passwords.secrets.randbelow", lambda _: next(codes))
    ask_for_code(client)
    clock.shift(timedelta(minutes=2))
    ask_for_code(client)
    assert field_errors(set_password(client, "111111").content.decode()) == {"code": [REFUSED]}
    assert set_password(client, "222222").status_code == 302


def test_a_weak_new_password_is_explained_and_the_code_stays_good(client, cast, clock):
    ask_for_code(client)
    code = last_code()
    response = set_password(client, code, "12345678")
    assert field_errors(response.content.decode())["new_password"] == [
        "密码太短：至少需要 10 个字符。",
        "密码过于常见，容易被猜中，请换一个。",
        "密码不能全部是数字。",
        "密码太简单：须同时包含大写字母、小写字母、数字、符号中的至少 3 类。",
    ]
    assert set_password(client, code).status_code == 302


def test_an_account_gets_one_code_a_minute_and_three_an_hour(client, cast, clock):
    ask_for_code(client)
    ask_for_code(client)  # within the minute: not sent
    assert OutboxMessage.objects.filter(topic="account.password_reset").count() == 1
    for _ in range(3):
        clock.shift(timedelta(seconds=61))
        ask_for_code(client)
    assert OutboxMessage.objects.filter(topic="account.password_reset").count() == 3
    denied = AuditEvent.objects.filter(action="account.password_reset_requested", outcome="denied")
    assert denied.count() == 2


def test_one_address_is_stopped_after_ten_requests_an_hour(client, cast, clock):
    for number in range(10):
        ask_for_code(client, f"someone{number}")
    page = ask_for_code(client).content.decode()
    assert "找回密码的请求过于频繁，请 1 小时后再试。" in page
    assert OutboxMessage.objects.filter(topic="account.password_reset").count() == 0
    assert AuditEvent.objects.filter(action="account.password_reset_throttled", outcome="denied").count() == 1
    clock.shift(timedelta(hours=1, seconds=1))
    ask_for_code(client)
    assert OutboxMessage.objects.filter(topic="account.password_reset").count() == 1


def test_a_reset_lifts_a_login_lockout(client, cast, clock):
    for _ in range(5):
        client.post("/accounts/login/", {"username": "citizen_demo", "password": "Wrong-pass-123"})
    assert client.post("/accounts/login/", {"username": "citizen_demo", "password": NEW_PASSWORD}).status_code == 429
    ask_for_code(client)
    set_password(client, last_code())
    assert client.post("/accounts/login/", {"username": "citizen_demo", "password": NEW_PASSWORD}).status_code == 302


def test_the_outbox_command_shows_the_sms_in_the_embedded_platform(client, cast, clock):
    from io import StringIO

    from django.core.management import call_command

    ask_for_code(client)
    output = StringIO()
    call_command("outbox", "--phone", "13800138000", stdout=output)
    assert f"验证码 {last_code()}" in output.getvalue()


def test_an_enterprise_user_resets_the_password_the_same_way(client, cast, clock):
    ask_for_code(client, "enterprise_demo", "13900139000")
    [sms] = OutboxMessage.objects.filter(topic="account.password_reset")
    assert (sms.phone, sms.recipient) == ("13900139000", cast["enterprise_demo"])
    assert set_password(client, last_code(), username="enterprise_demo").status_code == 302
    assert client.post("/accounts/login/", {"username": "enterprise_demo", "password": NEW_PASSWORD}).status_code == 302
