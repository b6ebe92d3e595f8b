"""A lost database connection answers 503 in Chinese (core.middleware.DatabaseUnavailableMiddleware and the
500 handler), as JSON under /api/ and as a page elsewhere, and the next request is served normally.

The production-mode test (tests/production/) cuts real PostgreSQL connections; these cut them by making
every query fail the way psycopg reports a connection the server closed."""

from __future__ import annotations

import pytest
from django.db import InterfaceError, OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import Client

pytestmark = pytest.mark.django_db

MESSAGE = (
    "系统暂时无法连接数据库，请稍后重试。如刚才提交了申请或表单，请重试前先查看是否已经保存，以免重复提交。"
)


@pytest.fixture
def browser() -> Client:
    return Client(raise_request_exception=False)


def test_an_api_request_whose_connection_was_cut_gets_a_chinese_503_in_the_error_shape(reference_data, browser):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CursorWrapper, "execute", _raise(OperationalError("server closed the connection unexpectedly")))
        response = browser.get("/api/v1/organisations")
    assert response.status_code == 503
    assert response.json() == {
        "code": "database_unavailable",
        "message": MESSAGE,
        "details": {"retry_after_seconds": 30},
    }
    assert response["Retry-After"] == "30"
    assert browser.get("/api/v1/organisations").status_code == 200  # the next request reconnects


def test_a_page_whose_connection_was_cut_gets_a_chinese_503_page(reference_data, browser):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CursorWrapper, "execute", _raise(InterfaceError("connection already closed")))
        response = browser.get("/organisations/")
    page = response.content.decode()
    assert response.status_code == 503
    assert "<h1>系统暂时无法使用</h1>" in page and MESSAGE in page
    assert "no-store" in response["Cache-Control"]
    assert browser.get("/organisations/").status_code == 200


@pytest.mark.parametrize("path", ["/organisations/", "/api/v1/me"])
def test_a_connection_lost_while_saving_the_session_after_the_view_also_answers_503(cast, password, browser, path):
    """Django's session store turns any database error of the save into "the session was deleted"
    (SessionInterrupted, a 400): a lost connection is told as what it is."""
    browser.post("/accounts/login/", {"username": "citizen_demo", "password": password})
    with pytest.MonkeyPatch.context() as patch:
        from django.db.models import Model

        real_save = Model.save

        def cut_while_saving_the_session(self, *args, **kwargs):
            if type(self).__name__ == "Session":
                raise OperationalError("server closed the connection unexpectedly")
            return real_save(self, *args, **kwargs)

        patch.setattr(Model, "save", cut_while_saving_the_session)
        response = browser.get(path)
    assert response.status_code == 503
    assert MESSAGE in response.content.decode()
    assert browser.get(path).status_code == 200


def _server_error_while_handling(error: Exception):
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory

    from yuexiu.core.views import server_error

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    try:
        raise error
    except Exception:  # noqa: BLE001 - Django calls the handler inside its except block
        return server_error(request)


def test_the_500_handler_answers_503_for_a_lost_connection(reference_data):
    assert _server_error_while_handling(OperationalError("connection lost")).status_code == 503
    assert _server_error_while_handling(ValueError("a bug")).status_code == 500


def _raise(error: Exception):
    def raising(*args, **kwargs):
        raise error

    return raising
