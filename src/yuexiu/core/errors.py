"""Domain errors. Services raise them; the API and pages map them to HTTP and show ``message``."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refused operation. ``message`` is Chinese and says what went wrong and what to do."""

    status = 400
    code = "invalid_request"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details or {}


class NotFound(DomainError):
    status = 404
    code = "not_found"


class PermissionDeniedError(DomainError):
    status = 403
    code = "permission_denied"


class Conflict(DomainError):
    status = 409
    code = "conflict"


VALIDATION_REASONS = {
    "missing": "必填",
    "greater_than_equal": "不能小于 {ge}",
    "greater_than": "必须大于 {gt}",
    "less_than_equal": "不能大于 {le}",
    "less_than": "必须小于 {lt}",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "date_from_datetime_parsing": "应为日期，格式 YYYY-MM-DD",
    "date_parsing": "应为日期，格式 YYYY-MM-DD",
    "datetime_parsing": "应为时间，格式 YYYY-MM-DDTHH:MM:SS",
    "datetime_from_date_parsing": "应为时间，格式 YYYY-MM-DDTHH:MM:SS",
    "string_too_long": "不能超过 {max_length} 个字符",
    "too_long": "不能超过 {max_length} 项",
    "literal_error": "只能取 {expected}",
    "ip_v4_address": "应为 IP 地址",
    "ip_v6_address": "应为 IP 地址",
    "string_too_short": "不能为空",
    "string_pattern_mismatch": "格式不正确",
    "bool_parsing": "应为是或否",
    "bool_type": "应为是或否",
    "extra_forbidden": "不是可识别的要素",
    "list_type": "应为列表",
    "model_type": "格式不正确",
    "dict_type": "格式不正确",
    "string_type": "应为文字",
    "int_type": "应为整数",
}


def validation_reason(item: dict[str, object]) -> str:
    """A Chinese reason for one pydantic error entry (its ``type`` and ``ctx``)."""
    template = VALIDATION_REASONS.get(str(item.get("type", "")), "取值无效")
    if item.get("type") == "string_pattern_mismatch" and "https?" in str((item.get("ctx") or {}).get("pattern", "")):
        return "应为以 http:// 或 https:// 开头的网址"
    context = dict(item["ctx"]) if isinstance(item.get("ctx"), dict) else {}
    if "expected" in context:  # pydantic writes "'xlsx', 'csv' or 'jsonld'"
        context["expected"] = str(context["expected"]).replace("'", "").replace(" or ", "、").replace(", ", "、")
    try:
        return template.format(**context)  # type: ignore[arg-type]  # ctx values are plain scalars
    except (KeyError, IndexError):
        return "取值无效"


# What a framework refusal (Django's or django-ninja's, raised before our code runs) says to a person:
# one Chinese sentence per HTTP status, used by the pages (core.views, core.middleware) and the API's
# error shape (yuexiu.api) alike.
HTTP_STATUS_MESSAGES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "请求格式有误，无法处理。请返回上一页检查后重试。"),
    401: ("not_authenticated", "请先登录。"),
    403: ("permission_denied", "您没有权限进行此操作。"),
    404: ("not_found", "请求的内容不存在，请检查地址。"),
    405: ("method_not_allowed", "该地址不支持这种请求方式。"),
    413: ("request_too_large", "提交的内容过大，请减少内容或分次提交。"),
    429: ("too_many_requests", "请求过于频繁，请稍后再试。"),
    500: ("server_error", "系统内部错误，请稍后再试；如持续出现请联系管理员。"),
    503: (
        "database_unavailable",
        "系统暂时无法连接数据库，请稍后重试。如刚才提交了申请或表单，请重试前先查看是否已经保存，以免重复提交。",
    ),
}
CSRF_FAILURE = (
    "csrf_failed",
    "安全校验未通过：页面可能已过期。请刷新页面后重新提交；如浏览器禁用了 Cookie，请为本站开启。"
    "接口调用须先登录，并在请求头 X-CSRFToken 中携带 csrftoken Cookie 的值。",
)
UNPARSABLE_BODY = ("invalid_body", "请求内容无法解析：应为合法的 JSON，并设置 Content-Type: application/json。")


def http_status_message(status: int) -> tuple[str, str]:
    """``(code, Chinese message)`` for an HTTP status a framework produced; a generic one for others."""
    if status in HTTP_STATUS_MESSAGES:
        return HTTP_STATUS_MESSAGES[status]
    return ("server_error", HTTP_STATUS_MESSAGES[500][1]) if status >= 500 else HTTP_STATUS_MESSAGES[400]


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in text)


def method_not_allowed_message(method: str, allowed: list[str]) -> str:
    """``该地址不支持 DELETE 请求（可用：GET）。``"""
    methods = "、".join(allowed)
    return f"该地址不支持 {method} 请求" + (f"（可用：{methods}）。" if methods else "。")


def unreadable_request_message(exception: BaseException | None) -> tuple[str, str]:
    """``(code, message)`` for a request Django refused to read (``SuspiciousOperation``, a broken
    upload): too large, too many fields or files, or otherwise malformed."""
    from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent

    if isinstance(exception, RequestDataTooBig):
        return "request_too_large", HTTP_STATUS_MESSAGES[413][1]
    if isinstance(exception, (TooManyFieldsSent, TooManyFilesSent)):
        return "too_many_fields", "提交的字段或文件数量过多，请减少后分次提交。"
    return HTTP_STATUS_MESSAGES[400]
