"""修改密码: a signed-in citizen or enterprise user changes the password with the current one; wrong
current passwords are limited, everything is audited, the owner is told by SMS, other sessions end."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.forms import field_errors
from yuexiu.core.models import AuditEvent, OutboxMessage

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Xin-mima#2026"


def change(client, current: str, new: str = NEW_PASSWORD, again: str | None = None):
    return client.post(
        "/accounts/password/",
        {"current_password": current, "new_password": new, "new_password_again": new if again is None else again},
    )


@pytest.mark.parametrize("username", ["citizen_demo", "enterprise_demo"])
def test_a_citizen_or_enterprise_user_changes_the_password_and_stays_signed_in(client, cast, password, username):
    user = cast[username]
    elsewhere = Client()
    elsewhere.force_login(user)
    client.force_login(user)
    assert 'href="/accounts/password/"' in client.get("/accounts/profile/").content.decode()
    response = change(client, password)
    assert response.status_code == 302 and response.url == "/accounts/profile/"
    assert client.get("/accounts/profile/").status_code == 200  # this session stays
    assert elsewhere.get("/accounts/profile/").status_code == 302  # the other one ended
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    [sms] = OutboxMessage.objects.filter(topic="account.password_changed", recipient=user)
    assert sms.phone == user.phone and "密码已在登录后修改" in sms.body
    assert AuditEvent.objects.filter(action="account.password_changed", actor=user).count() == 1


def test_a_wrong_current_password_a_weak_or_unchanged_new_one_are_explained(client, cast, password):
    client.force_login(cast["citizen_demo"])
    assert field_errors(change(client, "Not-my-pass-1").content.decode()) == {"current_password": ["当前密码不正确。"]}
    assert field_errors(change(client, password, new="short").content.decode()) == {
        "new_password": [
            "密码太短：至少需要 10 个字符。",
            "密码太简单：须同时包含大写字母、小写字母、数字、符号中的至少 3 类。",
        ]
    }
    assert field_errors(change(client, password, new=password).content.decode()) == {
        "new_password": ["新密码不能与当前密码相同。"]
    }
    assert field_errors(change(client, password, again="Other-pass#1").content.decode()) == {
        "new_password_again": ["两次输入的新密码不一致。"]
    }
    assert cast["citizen_demo"].check_password(password)


def test_five_wrong_current_passwords_stop_changes_for_an_hour(client, cast, password):
    client.force_login(cast["citizen_demo"])
    for _ in range(5):
        change(client, "Not-my-pass-1")
    page = change(client, password).content.decode()
    assert "当前密码错误次数过多，请 1 小时后再试" in page
    cast["citizen_demo"].refresh_from_db()
    assert cast["citizen_demo"].check_password(password)
    assert AuditEvent.objects.filter(action="account.password_change_failed").count() == 5
    assert AuditEvent.objects.filter(action="account.password_change_throttled").count() == 1


def test_the_change_page_needs_a_signed_in_account(client, reference_data):
    response = client.get("/accounts/password/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
