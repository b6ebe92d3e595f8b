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
