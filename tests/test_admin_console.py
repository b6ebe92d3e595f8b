"""The admin console is the 系统管理员's: 三员分立 is enforced there too, in Chinese."""

from __future__ import annotations

from tests.helpers import admin_form_data


def test_the_admin_refuses_a_second_administrator_role_in_chinese(client, catalogue):
    client.force_login(catalogue["sysadmin"])
    secadmin = catalogue["secadmin"]
    url = f"/admin/core/user/{secadmin.pk}/change/"
    data = admin_form_data(client.get(url))
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
    # an administrator's roles are the security administrator's, never the console's (三员分立)
    assert "管理员账号的角色只能由安全管理员分配（三员分立）。" in response.content.decode()
    assert secadmin.role_assignments.count() == 1
