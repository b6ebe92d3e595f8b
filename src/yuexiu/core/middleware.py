"""Request-wide middleware: refusing control characters, audit context, two-factor enforcement for staff,
a Chinese 503 while the database is away."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from contextlib import ExitStack
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django_otp import user_has_device

from yuexiu.core import audit
from yuexiu.core.errors import http_status_message, method_not_allowed_message
from yuexiu.core.text_limits import remove_invisible

logger = logging.getLogger(__name__)

REPLACEMENT = "\ufffd"


class ControlCharacterMiddleware:
    """Keep NUL characters out of queries: no text column can store one (PostgreSQL refuses it
    outright). A page request carrying one in its path, query or form is refused with 400. The API's
    query parameters are free text by its schema, so there a NUL becomes U+FFFD (the replacement
    character: same length, so length limits still hold, and it matches nothing) and the request
    goes on.

    Every other form value of a page (names, notes, opinions, every free text of every form, the
    console's included) loses its invisible format and control characters here, at the door
    (``text_limits.remove_invisible``: U+202E, U+200B …), so no form can forget it. Passwords are
    left exactly as typed (a password is compared, never shown)."""

    MESSAGE = "请求中含有不可见的控制字符（\\x00），请删除后重试。"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            if "\x00" in request.path_info or "%00" in request.META.get("QUERY_STRING", ""):
                request.path_info = request.path_info.replace("\x00", REPLACEMENT)
                request.path = request.path.replace("\x00", REPLACEMENT)
                cleaned = QueryDict(mutable=True)
                for key, values in request.GET.lists():
                    cleaned.setlist(
                        key.replace("\x00", REPLACEMENT), [value.replace("\x00", REPLACEMENT) for value in values]
                    )
                cleaned._mutable = False
                request.GET = cleaned
        elif self._has_nul(request):
            return render(request, "core/error.html", {"message": self.MESSAGE}, status=400)
        elif request.method == "POST" and request.content_type in FORM_CONTENT_TYPES:
            request.POST = _without_invisible(request.POST)
        return self.get_response(request)

    @staticmethod
    def _has_nul(request: HttpRequest) -> bool:
        if "\x00" in request.path:
            return True
        if any("\x00" in key or "\x00" in value for key, values in request.GET.lists() for value in values):
            return True
        if request.content_type == "application/x-www-form-urlencoded":
            return any("\x00" in value for _, values in request.POST.lists() for value in values)
        return False


FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _without_invisible(data: QueryDict) -> QueryDict:
    if all(value.isprintable() for _, values in data.lists() for value in values):
        return data  # the usual case: nothing to copy
    cleaned = QueryDict(mutable=True, encoding=data.encoding)
    for key, values in data.lists():
        if "password" in key:
            cleaned.setlist(key, values)
        else:
            cleaned.setlist(key, [remove_invisible(value) for value in values])
    cleaned._mutable = False
    return cleaned


class RequestContextMiddleware:
    """Make the client's IP, user agent and a request id available to ``audit.record_event``; when the
    answer is a 404 for someone else's object (``audit.concealed``), record the security event."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        context = audit.context_from_request(request)
        token = audit.set_request_context(context)
        try:
            response = self.get_response(request)
            if response.status_code == 404 and context.concealed:
                audit.record_concealed_access(request, context)
            return response
        finally:
            audit.reset_request_context(token)


class NoStoreForPersonalPagesMiddleware:
    """``Cache-Control: no-store`` (with ``private``, ``no-cache``, ``max-age=0``) on every response
    that may carry personal data, so that neither a shared proxy nor the browser's cache or
    back button keeps it: every response to a signed-in account (the profile with an unmasked
    身份证号 or phone, case pages, the window's forms, the console, ``/api/v1/me``) and every
    response to a POST (a registration form shown again with the number typed in it). Public pages
    fetched without an account stay cacheable."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if request.method == "POST" or getattr(user, "is_authenticated", False):
            add_never_cache_headers(response)
        return response


TWO_FACTOR_EXEMPT_PREFIXES = ("/accounts/two-factor/", "/accounts/logout/", "/static/", "/accessibility/")


def two_factor_needed(user: object) -> bool:
    """True when a signed-in staff account must pass a TOTP check before doing anything else.

    Staff must use two-factor in production (GB/T 22239-2019 level 3: 两种或两种以上组合的鉴别技术);
    in the embedded demo only staff who enrolled a device are asked for it.
    """
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_staff_account", False):
        return False
    if user.is_verified():  # type: ignore[attr-defined]  # added by django_otp's OTPMiddleware
        return False
    return settings.TWO_FACTOR_REQUIRED_FOR_STAFF or user_has_device(user)


class StaffTwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if two_factor_needed(request.user) and not request.path.startswith(TWO_FACTOR_EXEMPT_PREFIXES):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"code": "two_factor_required", "message": "请先完成两步验证后再访问。", "details": {}},
                    status=403,
                )
            target = reverse("two_factor")
            if request.method == "GET":  # come back to the page asked for once the code is checked
                target += "?" + urlencode({"next": request.get_full_path()})
            return redirect(target)
        return self.get_response(request)


class MethodNotAllowedMiddleware:
    """A 405 from Django (``require_POST``, a class view) or django-ninja has an empty or English
    body: give it a Chinese one (the error page, or the API's error shape under /api/), keeping
    the ``Allow`` header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 405 or not isinstance(response, HttpResponseNotAllowed):
            return response
        from yuexiu.core.views import error_response

        allowed = [method.strip() for method in response.get("Allow", "").split(",") if method.strip()]
        friendly = error_response(
            request,
            405,
            message=method_not_allowed_message(request.method or "", allowed),
            details={"allowed": allowed},
        )
        friendly["Allow"] = response["Allow"]
        return friendly


# ---- the database away ---------------------------------------------------------------------------

# A lost or refused database connection: the server closed it (a restart, a failover,
# pg_terminate_backend), the network dropped it, or no connection can be opened.
DATABASE_ERRORS = (OperationalError, InterfaceError)
DATABASE_UNAVAILABLE_FORM_NOTE = (
    "您填写的内容已保留在本页：数据库恢复后点击“重新提交”，表单会带着您填写的内容重新打开；"
    "上传的文件需要重新选择。"
)
RETRY_AFTER_SECONDS = 30


def is_database_unavailable(error: BaseException | None) -> bool:
    """Whether ``error`` is, or was raised while handling, a lost database connection. Django turns
    some into other errors: the session saved after the view meets the cut connection and Django
    answers ``SessionInterrupted`` (400, "the session was deleted"), which is not what happened."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, DATABASE_ERRORS):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


_UNAVAILABLE = "_yuexiu_database_unavailable"
# Form values never written back into a page.
_NOT_ECHOED = ("password", "csrfmiddlewaretoken")


def _mark_database_unavailable(sender: object, request: HttpRequest | None = None, **kwargs: object) -> None:
    """``got_request_exception`` receiver: a database error anywhere in the request (a middleware
    saving the session, a template) marks the request, whose 500 answer then becomes a 503."""
    if request is not None and is_database_unavailable(sys.exc_info()[1]):
        setattr(request, _UNAVAILABLE, True)


got_request_exception.connect(_mark_database_unavailable, dispatch_uid="yuexiu-database-unavailable")


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 with ``Retry-After``, rendered without touching the database: under /api/ the API's error
    shape (code ``database_unavailable``), elsewhere a page that, for a form sent by POST, offers to
    send the typed values again (never passwords or files) once the database is back."""
    code, message = http_status_message(503)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"code": code, "message": message, "details": {"retry_after_seconds": RETRY_AFTER_SECONDS}},
            status=503,
            json_dumps_params={"ensure_ascii": False},
        )
    else:
        fields: list[tuple[str, str]] = []
        files: list[str] = []
        if request.method == "POST":
            try:
                fields = [
                    (key, value)
                    for key, values in request.POST.lists()
                    if not any(word in key.lower() for word in _NOT_ECHOED)
                    for value in values
                ]
                files = [upload.name for uploads in request.FILES.lists() for upload in uploads[1]]
            except (MultiPartParserError, SuspiciousOperation, UnicodeDecodeError):
                fields, files = [], []  # an unreadable body: the page offers no resend
        response = HttpResponse(
            render_to_string(
                "core/database_unavailable.html",
                {
                    "message": message,
                    "note": DATABASE_UNAVAILABLE_FORM_NOTE if request.method == "POST" else "",
                    "action": request.get_full_path(),
                    "fields": fields,
                    "files": files,
                    "csrf_token": get_token(request) if request.method == "POST" else "",
                },
            ),
            status=503,
            content_type="text/html; charset=utf-8",
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    return response


class DatabaseUnavailableMiddleware:
    """While the database cannot be reached (connection refused or cut, SQLite locked or read-only:
    ``OperationalError``, ``InterfaceError``), every page and API request is answered with a clear
    Chinese 503 instead of a 500 or 400, whichever layer met the error, also when a layer turned it
    into another error (Django's session middleware answers 400 when it cannot save the session).
    Django reconnects on the next request once the database is back (``close_old_connections`` at
    each request, ``CONN_HEALTH_CHECKS`` for persistent connections).
    Early in ``MIDDLEWARE`` (after the metrics) so that it sees errors of every other middleware; errors
    raised outside a view also reach the 500 handler, ``core.views.server_error``, which answers the same."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        def record(execute: Callable[..., object], sql: str, params: object, many: bool, context: object) -> object:
            try:
                return execute(sql, params, many, context)
            except DATABASE_ERRORS:
                setattr(request, _UNAVAILABLE, True)
                raise

        with ExitStack() as stack:
            for database in connections.all():
                stack.enter_context(database.execute_wrapper(record))
            try:
                response = self.get_response(request)
            except DATABASE_ERRORS as error:  # raised while another layer was already answering an error
                logger.error("database unavailable in %s %s: %s", request.method, request.path, error)
                return database_unavailable_response(request)
        if getattr(request, _UNAVAILABLE, False) and response.status_code >= 400:
            return database_unavailable_response(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_database_unavailable(exception):
            logger.error("database unavailable in %s %s: %s", request.method, request.path, exception)
            setattr(request, _UNAVAILABLE, True)
            return database_unavailable_response(request)
        return None
