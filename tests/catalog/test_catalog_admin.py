"""The 系统管理员 maintains items' identity, 全市通办 modes, bundles and the shared-evidence table in the
admin console; every change there is audited; guide versions are read-only there."""

from __future__ import annotations

from tests.helpers import admin_form_data
from yuexiu.catalog.models import CitywideHandling, GuideVersion, ServiceItem
from yuexiu.core.models import AuditEvent


def test_the_system_administrator_adds_a_citywide_mode_and_it_is_audited(client, catalogue):
    client.force_login(catalogue["sysadmin"])
    item = ServiceItem.objects.get(seed_key="drainage-permit")
    url = f"/admin/catalog/serviceitem/{item.pk}/change/"
    data = admin_form_data(client.get(url))
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
    assert "1 个事项支持全市通办" in client.get("/services/").content.decode()


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
