"""Helpers shared by tests."""

from __future__ import annotations

from typing import Any


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
