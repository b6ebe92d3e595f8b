"""The login lockout cannot be used as a weapon: wrong passwords from one address stop logins to that
account from that address only; many addresses together still stop the account at a higher count;
the owner lifts a lockout with a code sent to the registered phone, keeping the password."""

from __future__ import annotations

import re

import pytest

from yuexiu.core.models import AuditEvent, OutboxMessage

pytestmark = pytest.mark.django_db

STRANGER = "203.0.113.66"
OWNER = "198.51.100.20"


def login(client, password: str, address: str, username: str = "citizen_demo"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def last_unlock_code() -> str:
    message = OutboxMessage.objects.filter(topic="account.unlock").latest("created_at", "id")
    return re.search(r"验证码 (\d{6})", message.body).group(1)  # type: ignore[union-attr]


def test_a_stranger_typing_wrong_passwords_does_not_lock_the_owner_out(client, cast, password):
    for _ in range(6):
        login(client, "Wrong-pass-123", STRANGER)
    assert login(client, password, STRANGER).status_code == 429  # the stranger's address is stopped
    assert login(client, password, OWNER).status_code == 302  # the owner, elsewhere, signs in
    assert AuditEvent.objects.filter(action="auth.locked_out", actor_username="citizen_demo").exists()


def test_failures_from_many_addresses_still_lock_the_account_at_thirty(client, cast, password, settings):
    assert settings.AXES_ACCOUNT_FAILURE_LIMIT == 30
    for number in range(29):
        login(client, "Wrong-pass-123", f"203.0.113.{number + 1}")
    assert login(client, password, OWNER).status_code == 302  # 29 scattered failures: not yet
    client.logout()
    login(client, "Wrong-pass-123", "203.0.113.200")
    response = login(client, password, OWNER)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lockout_page_offers_the_owner_an_unlock_by_sms(client, cast, password):
    for _ in range(5):
        login(client, "Wrong-pass-123", OWNER)
    page = login(client, password, OWNER).content.decode()
    assert 'href="/accounts/unlock/"' in page and "不能从当前网络登录该账号" in page


def test_the_owner_unlocks_with_the_code_sent_to_the_registered_phone_and_keeps_the_password(client, cast, password):
    for _ in range(5):
        login(client, "Wrong-pass-123", OWNER)
    assert login(client, password, OWNER).status_code == 429
    asked = client.post(
        "/accounts/unlock/", {"username": "citizen_demo", "phone": "13800138000"}, REMOTE_ADDR=OWNER, follow=True
    )
    assert asked.redirect_chain == [("/accounts/unlock/confirm/", 302)]
    [sms] = OutboxMessage.objects.filter(topic="account.unlock")
    assert (sms.phone, sms.recipient) == ("13800138000", cast["citizen_demo"])
    assert "解除账号登录锁定" in sms.body
    wrong = client.post("/accounts/unlock/confirm/", {"username": "citizen_demo", "code": "000000"}, REMOTE_ADDR=OWNER)
    assert "验证码不正确" in wrong.content.decode()
    done = client.post(
        "/accounts/unlock/confirm/", {"username": "citizen_demo", "code": last_unlock_code()}, REMOTE_ADDR=OWNER
    )
    assert done.status_code == 302 and done.url == "/accounts/login/"
    assert login(client, password, OWNER).status_code == 302  # the same password, unlocked
    assert list(
        AuditEvent.objects.filter(action__startswith="account.unlock").values_list("action", "outcome").order_by("id")
    ) == [
        ("account.unlock_requested", "succeeded"),
        ("account.unlock_failed", "failed"),
        ("account.unlocked", "succeeded"),
    ]


def test_an_unlock_request_says_nothing_about_the_account_and_shares_the_code_limits(client, cast):
    unknown = client.post("/accounts/unlock/", {"username": "nobody", "phone": "13800138000"}, follow=True)
    known = client.post("/accounts/unlock/", {"username": "citizen_demo", "phone": "13800138000"}, follow=True)
    assert unknown.redirect_chain == known.redirect_chain
    # a reset code asked a moment later is not sent: one code a minute per account, whatever it is for
    client.post("/accounts/password-reset/", {"username": "citizen_demo", "phone": "13800138000"})
    assert OutboxMessage.objects.filter(recipient=cast["citizen_demo"]).count() == 1
