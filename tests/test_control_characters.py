"""A NUL character never reaches a query (PostgreSQL cannot store it): pages refuse it with 400, the
API replaces it in its free-text parameters by U+FFFD (same length, matches nothing)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

pytestmark = pytest.mark.django_db


def test_the_api_replaces_a_nul_in_its_free_text_parameters(client, catalogue):
    with_nul = client.get("/api/v1/catalog/items", {"q": "食品\x00经营"})
    assert with_nul.status_code == 200
    assert with_nul.json() == client.get("/api/v1/catalog/items", {"q": "食品\ufffd经营"}).json()
    # the length is kept, so a limit still refuses what it refused before
    assert client.get("/api/v1/catalog/items", {"q": "食" * 50 + "\x00"}).status_code == 422
    missing = client.get("/api/v1/policies/items/ab%00c")
    assert missing.status_code == 404 and missing.json()["message"] == "兑现事项不存在。"


def test_pages_refuse_a_nul_in_a_query_or_a_form(client):
    assert client.get("/policies/", {"q": "a\x00"}).status_code == 400
    form = urlencode({"username": "a\x00", "password": "x"})
    assert client.post("/accounts/login/", form, content_type="application/x-www-form-urlencoded").status_code == 400
    assert client.get("/policies/", {"q": "正常"}).status_code == 200
