"""A NUL character in a path, a query or a form is refused before it reaches a query (PostgreSQL
cannot store it): 422 in the API's error shape, 400 on pages."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

pytestmark = pytest.mark.django_db


def test_the_api_refuses_a_nul_in_the_query_with_its_error_shape(client):
    response = client.get("/api/v1/catalog/items", {"department": "<\x00;"})
    assert response.status_code == 422
    assert response.json() == {
        "code": "invalid_characters",
        "message": "请求中含有不可见的控制字符（\\x00），请删除后重试。",
        "details": {},
    }
    assert client.get("/api/v1/policies/items/ab%00c").status_code == 422


def test_pages_refuse_a_nul_in_a_query_or_a_form(client):
    assert client.get("/policies/", {"q": "a\x00"}).status_code == 400
    form = urlencode({"username": "a\x00", "password": "x"})
    assert client.post("/accounts/login/", form, content_type="application/x-www-form-urlencoded").status_code == 400
    assert client.get("/policies/", {"q": "正常"}).status_code == 200
