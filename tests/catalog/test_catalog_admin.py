"""The 系统管理员 maintains items' identity, 全市通办 modes, bundles and the shared-evidence table in the
admin console; every change there is audited; guide versions are read-only there."""

from __future__ import annotations

from typing import Any

from yuexiu.catalog.models import CitywideHandling, GuideVersion, ServiceItem
from yuexiu.core.models import AuditEvent


def _form_data(response: Any) -> dict[str, Any]:
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


def test_the_system_administrator_adds_a_citywide_mode_and_it_is_audited(client, catalogue):
    client.force_login(catalogue["sysadmin"])
    item = ServiceItem.objects.get(seed_key="drainage-permit")
    url = f"/admin/catalog/serviceitem/{item.pk}/change/"
    data = _form_data(client.get(url))
    data.update(
        {
            "citywide-TOTAL_FORMS": "1",
            "citywide-0-mode": "proxy_intake",
            "citywide-0-areas": '["广州市"]',
            "citywide-0-confidence": "M",
            "citywide-0-item": str(item.pk),
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert list(CitywideHandling.objects.filter(item=item).values_list("mode", "areas")) == [
        ("proxy_intake", ["广州市"])
    ]
    assert AuditEvent.objects.filter(action="citywidehandling.created", actor=catalogue["sysadmin"]).count() == 1
    assert "4 个事项支持全市通办" in client.get("/services/").content.decode()


def test_guide_versions_are_read_only_in_the_admin(client, catalogue):
    client.force_login(catalogue["sysadmin"])
    version = GuideVersion.objects.first()
    assert client.get(f"/admin/catalog/guideversion/{version.pk}/change/").status_code == 200
    assert client.post(f"/admin/catalog/guideversion/{version.pk}/delete/", {"post": "yes"}).status_code == 403
    assert GuideVersion.objects.filter(pk=version.pk).exists()


def test_only_the_system_administrator_may_use_the_admin(client, catalogue):
    client.force_login(catalogue["sysadmin"])
    assert client.get("/admin/core/organisation/").status_code == 200
    client.force_login(catalogue["reviewer_zsj"])
    assert client.get("/admin/catalog/serviceitem/").status_code == 302


def test_the_admin_refuses_a_second_administrator_role_in_chinese(client, catalogue):
    client.force_login(catalogue["sysadmin"])
    secadmin = catalogue["secadmin"]
    url = f"/admin/core/user/{secadmin.pk}/change/"
    data = _form_data(client.get(url))
    total = int(data["role_assignments-TOTAL_FORMS"])
    data.update(
        {
            "role_assignments-TOTAL_FORMS": str(total + 1),
            f"role_assignments-{total}-role": "audit_admin",
            f"role_assignments-{total}-organisation": str(secadmin.organisation_id),
            f"role_assignments-{total}-user": str(secadmin.pk),
        }
    )
    response = client.post(url, data)
    assert response.status_code == 200
    assert "按三员分立要求，一个账号只能担任一种管理员角色。" in response.content.decode()
    assert secadmin.role_assignments.count() == 1
