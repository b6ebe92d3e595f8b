"""Helpers shared by tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo


def admin_form_data(response: Any) -> dict[str, Any]:
    """The POST data of an admin change form as the browser would send it unchanged."""
    data: dict[str, Any] = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[f"{inline.formset.prefix}-{name}"] = management[name].value()
        forms.extend(inline.formset.forms)
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            key = form.add_prefix(name)
            data[key] = [getattr(entry, "pk", entry) for entry in value] if isinstance(value, list) else value
    return data


PDF = b"%PDF-1.7\n" + b"0" * 100
FOOD_LICENCE_MATERIALS = (
    "与食品经营相适应的主要设备设施布局、操作流程等文件",
    "食品安全自查、从业人员健康管理、进货查验记录、食品安全事故处置等保证食品安全的规章制度",
)


def food_licence_uploads(data: bytes = PDF) -> list[Any]:
    """One PDF for each material an online applicant must upload for 食品经营许可（新办）."""
    from yuexiu.cases.services import Upload

    return [Upload(name, f"{name[:6]}.pdf", data) for name in FOOD_LICENCE_MATERIALS]


SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    """An aware Beijing-time instant from ``2026-03-02T10:00``."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)
