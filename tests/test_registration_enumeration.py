"""Registration tells a stranger nothing about who has an account: a 身份证号 that already has one
gets the same answer as a new registration, and its owner is told by SMS; an address gets a limited
number of attempts an hour."""

from __future__ import annotations

import pytest

from yuexiu.core import services
from yuexiu.core.models import AuditEvent, OutboxMessage, User

pytestmark = pytest.mark.django_db

CITIZEN_ID = "440104199001010029"  # 张晓越 (citizen_demo), phone 13800138000


def _register(client, username: str, id_number: str, password: str, address: str = "203.0.113.9"):
    return client.post(
        "/accounts/register/",
        {"account_type": "citizen", "username": username, "full_name": "王五", "id_number": id_number,
         "phone": "13700137000", "password": password},
        REMOTE_ADDR=address,
        follow=True,
    )  # fmt: skip


def _visible(response) -> str:
    """The page without what differs between any two requests (the CSRF token)."""
    page = response.content.decode()
    return "\n".join(line for line in page.splitlines() if "csrf" not in line.lower())


def test_a_registered_id_number_gets_the_same_answer_as_a_new_one_and_its_owner_an_sms(client, cast, password):
    taken = _register(client, "wangwu", CITIZEN_ID, password)
    fresh = _register(client, "zhaoliu", "11010519491231002X", password)
    assert [url for url, _ in taken.redirect_chain] == [url for url, _ in fresh.redirect_chain] == ["/accounts/login/"]
    assert services.REGISTRATION_ACCEPTED_MESSAGE in taken.content.decode()
    assert _visible(taken) == _visible(fresh)
    assert "已注册" not in taken.content.decode().replace(services.REGISTRATION_ACCEPTED_MESSAGE, "")
    assert not User.objects.filter(username="wangwu").exists()
    notice = OutboxMessage.objects.get(topic=services.REGISTRATION_ATTEMPT_TOPIC)
    assert (notice.recipient, notice.phone) == (cast["citizen_demo"], "13800138000")
    assert "有人尝试用您的身份证号注册" in notice.body
    event = AuditEvent.objects.get(action="account.registration_duplicate")
    owner = str(cast["citizen_demo"].pk)
    assert (event.actor_username, event.object_id, event.ip_address) == ("wangwu", owner, "203.0.113.9")


def test_repeated_attempts_on_one_number_send_its_owner_one_sms_a_day(client, cast, password):
    for name in ("wangwu", "wangwu2", "wangwu3"):
        _register(client, name, CITIZEN_ID, password)
    assert OutboxMessage.objects.filter(topic=services.REGISTRATION_ATTEMPT_TOPIC).count() == 1
    assert AuditEvent.objects.filter(action="account.registration_duplicate").count() == 3


def test_other_problems_are_reported_without_saying_the_number_is_taken(client, cast):
    page = _register(client, "wangwu", CITIZEN_ID, "short").content.decode()
    assert "密码太短" in page
    assert "身份证号已注册" not in page and "该身份证号" not in page
    assert not OutboxMessage.objects.filter(topic=services.REGISTRATION_ATTEMPT_TOPIC).exists()


def test_an_address_gets_twenty_registration_attempts_an_hour(client, reference_data, password):
    for number in range(services.REGISTRATIONS_PER_ADDRESS_PER_HOUR):
        _register(client, f"user{number}", "not-a-number", password)
    assert AuditEvent.objects.filter(action="account.registration_refused").count() == 20
    refused = _register(client, "late", "11010519491231002X", password)
    assert "注册请求过于频繁，请 1 小时后再试。" in refused.content.decode()
    assert not User.objects.filter(username="late").exists()
    assert AuditEvent.objects.filter(action="account.registration_throttled", ip_address="203.0.113.9").count() == 1
    # another address is not affected
    other = _register(client, "late", "11010519491231002X", password, address="198.51.100.7")
    assert User.objects.filter(username="late").exists() and other.redirect_chain


def test_an_address_is_limited_for_enterprise_registrations_too(client, reference_data, password):
    for number in range(services.REGISTRATIONS_PER_ADDRESS_PER_HOUR):
        client.post(
            "/accounts/register/",
            {"account_type": "enterprise", "username": f"e{number}", "enterprise_uscc": "bad"},
            REMOTE_ADDR="203.0.113.9",
        )
    page = client.post(
        "/accounts/register/", {"account_type": "enterprise", "username": "late"}, REMOTE_ADDR="203.0.113.9"
    ).content.decode()
    assert "注册请求过于频繁" in page
