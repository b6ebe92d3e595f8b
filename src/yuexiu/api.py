"""The platform's one JSON API, mounted at /api/v1, with one error shape: {"code", "message", "details"}."""

from __future__ import annotations

import logging

from django.core.exceptions import SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from yuexiu.cases.api import router as cases_router
from yuexiu.catalog.api import router as catalog_router
from yuexiu.core import audit
from yuexiu.core.api import router as core_router
from yuexiu.core.errors import (
    CSRF_FAILURE,
    UNPARSABLE_BODY,
    DomainError,
    PermissionDeniedError,
    has_chinese,
    http_status_message,
    unreadable_request_message,
    validation_reason,
)
from yuexiu.core.middleware import database_unavailable_response
from yuexiu.core.workdays import CalendarError, CalendarYearMissing
from yuexiu.policies.api import router as policies_router

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="数字越秀 API",
    version="1",
    description="越秀区政务服务和数据管理局平台接口。错误统一返回 {code, message, details}，message 为中文说明。",
    urls_namespace="api-v1",
)
api.add_router("/", core_router)
api.add_router("/", catalog_router)
api.add_router("/", cases_router)
api.add_router("/", policies_router)


def error_response(request: HttpRequest, status: int, code: str, message: str, details: object = None) -> HttpResponse:
    return api.create_response(request, {"code": code, "message": message, "details": details or {}}, status=status)


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, error: DomainError) -> HttpResponse:
    if isinstance(error, PermissionDeniedError):
        audit.record_event(
            action="permission.denied", actor=request.user, outcome="denied", message=f"API {request.path}"
        )
    return error_response(request, error.status, error.code, error.message, error.details)


@api.exception_handler(CalendarError)
def on_calendar_error(request: HttpRequest, error: CalendarError) -> HttpResponse:
    status = 409 if isinstance(error, CalendarYearMissing) else 400
    details = {"year": error.year} if isinstance(error, CalendarYearMissing) else {}
    return error_response(request, status, error.code, error.message, details)


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, error: ValidationError) -> HttpResponse:
    fields = []
    for item in error.errors:
        names = [str(part) for part in item.get("loc", ()) if part not in {"query", "path", "body", "filters"}]
        location = names[0] if names else ""
        if all(field["field"] != location for field in fields):
            fields.append({"field": location, "reason": validation_reason(item)})
    names = "、".join(field["field"] for field in fields if field["field"]) or "请求"
    return error_response(
        request, 422, "validation_error", f"参数有误：{names}。请检查格式和取值范围。", {"errors": fields}
    )


@api.exception_handler(AuthenticationError)
def on_authentication_error(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    return error_response(request, 401, "not_authenticated", "请先登录。")


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def on_database_unavailable(request: HttpRequest, error: Exception) -> HttpResponse:
    """The database connection was lost or refused: 503 in Chinese (core.middleware)."""
    logger.error("database unavailable in %s %s: %s", request.method, request.path, error)
    return database_unavailable_response(request)


@api.exception_handler(Exception)
def on_unexpected_error(request: HttpRequest, error: Exception) -> HttpResponse:
    """A bug: logged with its traceback for the operators, answered in the API's error shape."""
    logger.exception("Unhandled error in %s %s", request.method, request.path)
    return error_response(request, 500, "server_error", "系统内部错误，请稍后再试；如持续出现请联系管理员。")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    """django-ninja's own refusals (CSRF, an unparsable body, throttling) speak English: say them in
    Chinese. An ``HttpError`` raised with a Chinese message keeps it."""
    text = str(error)
    if text == "CSRF check Failed":
        code, message = CSRF_FAILURE
    elif text.startswith("Cannot parse request body"):
        code, message = UNPARSABLE_BODY
    elif has_chinese(text):
        code, message = "http_error", text
    else:
        code, message = http_status_message(error.status_code)
    return error_response(request, error.status_code, code, message)


@api.exception_handler(SuspiciousOperation)
def on_unreadable_request(request: HttpRequest, error: SuspiciousOperation) -> HttpResponse:
    """A request Django refuses to read (too many fields, too large): a 400 like the pages', not a 500."""
    code, message = unreadable_request_message(error)
    return error_response(request, 400, code, message)


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, error: Http404) -> HttpResponse:
    code, message = http_status_message(404)
    return error_response(request, 404, code, message)
