"""三员分立 (GB/T 22239-2019 level 3): an administrator role is held alone, nobody changes their own
roles, an administrator's roles are the security administrator's to grant, and the three
administrators see no case, rating or personal data, whatever path they take (service, admin
console, database, workbench pages, API)."""

from __future__ import annotations

import importlib

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction

from tests.helpers import admin_form_data, at
from tests.ratings.test_ratings import closed_case  # noqa: F401  # shared fixture
from yuexiu.cases import selectors as case_selectors
from yuexiu.core import selectors, services
from yuexiu.core.errors import Conflict, PermissionDeniedError
from yuexiu.core.models import AuditEvent, Organisation, OutboxMessage, Role, RoleAssignment, User
from yuexiu.ratings import selectors as rating_selectors
from yuexiu.ratings import services as rating_services
from yuexiu.supervision import selectors as supervision_selectors

ADMINISTRATORS = ("sysadmin", "secadmin", "auditadmin")
BUREAU = "440104-ZSJ"


def roles_of(user: User) -> list[str]:
    return sorted(RoleAssignment.objects.filter(user=user).values_list("role", flat=True))


@pytest.fixture
def bureau(reference_data) -> Organisation:
    return Organisation.objects.get(code=BUREAU)


@pytest.fixture
def newcomer(cast, bureau) -> User:
    """A staff account with no role yet."""
    user = User(username="newcomer", full_name="新同事", account_type="staff", organisation=bureau)
    user.set_password("Yuexiu#2024demo")
    user.save()
    return user


# ---- the one service every path uses -------------------------------------------------------------


def test_the_system_administrator_cannot_give_itself_the_supervisor_role(cast, bureau):
    sysadmin = cast["sysadmin"]
    with pytest.raises(PermissionDeniedError, match="不能分配自己账号的角色"):
        services.grant_role(user=sysadmin, role=Role.SUPERVISOR, organisation=bureau, granted_by=sysadmin)
    assert roles_of(sysadmin) == ["system_admin"]


def test_no_administrator_changes_its_own_roles(cast, bureau):
    secadmin = cast["secadmin"]
    with pytest.raises(PermissionDeniedError, match="不能撤销自己账号的角色"):
        services.revoke_role(assignment=secadmin.role_assignments.get(), revoked_by=secadmin)
    with pytest.raises(PermissionDeniedError, match="不能分配自己账号的角色"):
        services.grant_role(user=secadmin, role=Role.SECURITY_ADMIN, organisation=bureau, granted_by=secadmin)
    assert roles_of(secadmin) == ["security_admin"]


def test_an_administrator_holds_no_business_role_whoever_grants_it(cast, bureau):
    for granted_by in (cast["secadmin"], None):  # the security administrator, the setup command
        with pytest.raises(Conflict, match="该账号是系统管理员，按三员分立要求不能再担任监督人员等业务角色"):
            services.grant_role(user=cast["sysadmin"], role=Role.SUPERVISOR, organisation=bureau, granted_by=granted_by)
    assert roles_of(cast["sysadmin"]) == ["system_admin"]


def test_a_business_account_cannot_become_an_administrator(cast, bureau):
    officer = cast["window_centre"]
    with pytest.raises(Conflict, match="该账号担任窗口工作人员，按三员分立要求不能再担任审计管理员"):
        services.grant_role(user=officer, role=Role.AUDIT_ADMIN, organisation=bureau, granted_by=cast["secadmin"])
    assert roles_of(officer) == ["window_officer"]


def test_only_the_security_administrator_grants_and_revokes_administrator_roles(cast, bureau, newcomer):
    with pytest.raises(PermissionDeniedError, match="管理员账号的角色只能由安全管理员分配"):
        services.grant_role(user=newcomer, role=Role.AUDIT_ADMIN, organisation=bureau, granted_by=cast["sysadmin"])
    assert roles_of(newcomer) == []
    services.grant_role(user=newcomer, role=Role.AUDIT_ADMIN, organisation=bureau, granted_by=cast["secadmin"])
    assert roles_of(newcomer) == ["audit_admin"]
    assignment = newcomer.role_assignments.get()
    with pytest.raises(PermissionDeniedError, match="管理员账号的角色只能由安全管理员撤销"):
        services.revoke_role(assignment=assignment, revoked_by=cast["sysadmin"])
    services.revoke_role(assignment=assignment, revoked_by=cast["secadmin"])
    assert roles_of(newcomer) == []
    granted = AuditEvent.objects.filter(action="role.granted", actor_username="secadmin").get()
    assert granted.changes == {"user": "newcomer", "role": "audit_admin", "organisation": BUREAU}


def test_business_roles_stay_the_system_administrators(cast, bureau, newcomer):
    with pytest.raises(PermissionDeniedError, match="只有系统管理员可以分配角色"):
        services.grant_role(user=newcomer, role=Role.APPROVER, organisation=bureau, granted_by=cast["secadmin"])
    services.grant_role(user=newcomer, role=Role.APPROVER, organisation=bureau, granted_by=cast["sysadmin"])
    assert roles_of(newcomer) == ["approver"]


# ---- the database ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "role"),
    [("sysadmin", Role.SUPERVISOR), ("auditadmin", Role.WINDOW_OFFICER), ("supervisor_demo", Role.SYSTEM_ADMIN)],
)
def test_the_database_refuses_an_administrator_role_beside_another(cast, bureau, username, role):
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(user=cast[username], role=role, organisation=bureau)
    assert len(roles_of(cast[username])) == 1


def test_the_database_refuses_turning_a_second_role_into_an_administrator_role(cast, bureau):
    officer = cast["window_centre"]
    services.grant_role(user=officer, role=Role.HOTLINE_OPERATOR, organisation=bureau, granted_by=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.filter(user=officer, role=Role.HOTLINE_OPERATOR).update(role=Role.SECURITY_ADMIN)
    assert roles_of(officer) == ["hotline_operator", "window_officer"]


# ---- the admin console ---------------------------------------------------------------------------


def add_role_in_console(client, target: User, role: str, organisation: Organisation):
    url = f"/admin/core/user/{target.pk}/change/"
    data = admin_form_data(client.get(url))
    total = int(data["role_assignments-TOTAL_FORMS"])
    data.update(
        {
            "role_assignments-TOTAL_FORMS": str(total + 1),
            f"role_assignments-{total}-role": role,
            f"role_assignments-{total}-organisation": str(organisation.pk),
            f"role_assignments-{total}-user": str(target.pk),
        }
    )
    return client.post(url, data)


def test_the_console_refuses_the_system_administrator_its_own_supervisor_role(client, cast, bureau):
    sysadmin = cast["sysadmin"]
    client.force_login(sysadmin)
    events = AuditEvent.objects.count()
    response = add_role_in_console(client, sysadmin, Role.SUPERVISOR, bureau)
    assert response.status_code == 200
    assert "不能分配自己账号的角色，请由其他管理员办理（三员分立）。" in response.content.decode()
    assert roles_of(sysadmin) == ["system_admin"]
    assert AuditEvent.objects.count() == events


def test_the_console_refuses_a_business_role_for_another_administrator(client, cast, bureau):
    client.force_login(cast["sysadmin"])
    response = add_role_in_console(client, cast["auditadmin"], Role.SUPERVISOR, bureau)
    assert response.status_code == 200
    assert "管理员账号的角色只能由安全管理员分配（三员分立）。" in response.content.decode()
    assert roles_of(cast["auditadmin"]) == ["audit_admin"]


def test_the_console_refuses_removing_an_administrators_role(client, cast):
    client.force_login(cast["sysadmin"])
    auditadmin = cast["auditadmin"]
    url = f"/admin/core/user/{auditadmin.pk}/change/"
    data = admin_form_data(client.get(url))
    data["role_assignments-0-DELETE"] = "on"
    response = client.post(url, data)
    assert "管理员账号的角色只能由安全管理员撤销（三员分立）。" in response.content.decode()
    assert roles_of(auditadmin) == ["audit_admin"]


def test_the_console_grants_business_roles_through_the_service(client, cast, bureau):
    client.force_login(cast["sysadmin"])
    officer = cast["window_centre"]
    response = add_role_in_console(client, officer, Role.HOTLINE_OPERATOR, bureau)
    assert response.status_code == 302
    assert roles_of(officer) == ["hotline_operator", "window_officer"]
    assignment = officer.role_assignments.get(role=Role.HOTLINE_OPERATOR)
    assert assignment.granted_by == cast["sysadmin"]
    event = AuditEvent.objects.get(action="role.granted", object_id=str(assignment.pk))
    assert event.changes == {"user": "window_centre", "role": "hotline_operator", "organisation": BUREAU}


# ---- the security administrator's page -----------------------------------------------------------


def test_the_security_administrator_grants_an_administrator_role_on_its_page(client, cast, newcomer):
    client.force_login(cast["sysadmin"])
    assert client.get("/workbench/administrators/").status_code == 403
    client.force_login(cast["secadmin"])
    page = client.get("/workbench/administrators/").content.decode()
    assert "罗审计" in page and "审计管理员" in page
    data = {"grant-username": "NEWCOMER", "grant-role": "audit_admin", "grant-organisation": BUREAU}
    assert client.post("/workbench/administrators/", data).status_code == 302
    assert roles_of(newcomer) == ["audit_admin"]
    refused = client.post("/workbench/administrators/", {**data, "grant-username": "window_centre"})
    assert "该账号担任窗口工作人员，按三员分立要求不能再担任审计管理员" in refused.content.decode()
    own = cast["secadmin"].role_assignments.get()
    client.post("/workbench/administrators/", {"revoke": str(own.pk)})
    assert roles_of(cast["secadmin"]) == ["security_admin"]


# ---- the administrators see no business data -------------------------------------------------------


@pytest.fixture
def negative(catalogue, closed_case):  # noqa: F811
    with time_machine.travel(at("2026-03-02T15:00"), tick=False):
        return rating_services.rate_case(case=closed_case, channel="qr", level=1, comment="窗口让我跑了三趟")


@pytest.mark.parametrize("username", ADMINISTRATORS)
def test_administrators_see_no_case_rating_or_supervision_record(client, catalogue, negative, username):
    administrator = catalogue[username]
    assert selectors.visible_organisation_ids(administrator) == set()
    assert not case_selectors.list_staff_cases(administrator, open_only=False).exists()
    assert not rating_selectors.list_rectifications(administrator).exists()
    assert not supervision_selectors.list_alerts(administrator).exists()
    client.force_login(administrator)
    for url in ("/workbench/ratings/", "/workbench/", "/api/v1/cases"):
        page = client.get(url).content.decode()
        assert "窗口让我跑了三趟" not in page and negative.case.number not in page, url
    case_page = client.get(f"/cases/{negative.case.number}/")  # its number is in the page's own address
    assert case_page.status_code == 404 and "窗口让我跑了三趟" not in case_page.content.decode()
    # the supervisor, by contrast, sees the 差评
    assert rating_selectors.list_rectifications(catalogue["supervisor_demo"]).count() == 1


def test_an_administrator_holding_a_business_role_from_before_still_sees_nothing(client, catalogue, negative):
    """The exploit of the security test, on an account made before the rules were enforced: the
    system administrator also holds the supervisor role (the trigger is dropped for the test)."""
    migration = importlib.import_module("yuexiu.core.migrations.0013_administrator_roles_exclusive")
    statements = migration.POSTGRES_BACKWARD if connection.vendor == "postgresql" else migration.SQLITE_BACKWARD
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    sysadmin = catalogue["sysadmin"]
    RoleAssignment.objects.create(user=sysadmin, role=Role.SUPERVISOR, organisation=sysadmin.organisation)
    sysadmin = User.objects.get(pk=sysadmin.pk)
    assert not services.has_role(sysadmin, Role.SUPERVISOR)
    assert not case_selectors.list_staff_cases(sysadmin, open_only=False).exists()
    assert not rating_selectors.list_rectifications(sysadmin).exists()
    client.force_login(sysadmin)
    assert client.get(f"/cases/{negative.case.number}/").status_code == 404
    page = client.get("/workbench/ratings/").content.decode()
    assert "窗口让我跑了三趟" not in page and negative.case.number not in page


@pytest.mark.parametrize("username", ADMINISTRATORS)
@pytest.mark.parametrize(
    "url", ["/workbench/cases/", "/workbench/ratings/", "/workbench/supervision/", "/workbench/dashboard/"]
)
def test_the_business_workbenches_refuse_the_administrators_in_chinese(client, cast, username, url):
    client.force_login(cast[username])
    response = client.get(url)
    assert response.status_code == 403
    assert "按三员分立要求，系统管理员、安全管理员、审计管理员不办理业务" in response.content.decode()


def test_the_administrators_workbench_has_no_business_panel(client, catalogue, negative):
    client.force_login(catalogue["sysadmin"])
    page = client.get("/workbench/").content.decode()
    assert "/workbench/ratings/" not in page and "/workbench/cases/" not in page
    client.force_login(catalogue["approver_scj"])
    assert "/workbench/ratings/" in client.get("/workbench/").content.decode()


# ---- passwords set in the console ------------------------------------------------------------------


def test_the_console_cannot_set_another_administrators_password(client, cast):
    client.force_login(cast["sysadmin"])
    auditadmin = cast["auditadmin"]
    url = f"/admin/core/user/{auditadmin.pk}/password/"
    assert client.get(url).status_code == 403
    response = client.post(url, {"password1": "Another#Pass2026", "password2": "Another#Pass2026"})
    assert response.status_code == 403
    assert "管理员账号的密码只能由本人修改" in response.content.decode()
    auditadmin.refresh_from_db()
    assert auditadmin.check_password("Yuexiu#2024demo")


def test_a_password_set_in_the_console_is_audited_and_the_owner_told(client, cast):
    client.force_login(cast["sysadmin"])
    citizen = cast["citizen_demo"]
    url = f"/admin/core/user/{citizen.pk}/password/"
    response = client.post(url, {"password1": "Another#Pass2026", "password2": "Another#Pass2026"})
    assert response.status_code == 302
    citizen.refresh_from_db()
    assert citizen.check_password("Another#Pass2026")
    event = AuditEvent.objects.get(action="account.password_set_by_administrator")
    assert (event.actor_username, event.object_id) == ("sysadmin", str(citizen.pk))
    message = OutboxMessage.objects.get(recipient=citizen, subject="密码已由系统管理员重置")
    assert message.phone == "13800138000"


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_writes_cannot_put_an_administrator_role_beside_another(cast, bureau, newcomer):
    """Straight to the table, bypassing the service, from two connections at once: on PostgreSQL the
    trigger locks the account's row before it looks, and SQLite lets one writer at a time, so one of
    the two inserts fails whichever commits first."""
    import threading

    # PostgreSQL: both transactions are open before either inserts. SQLite (BEGIN IMMEDIATE): the second
    # transaction waits for the first to commit, so meeting at a barrier inside them would deadlock.
    barrier = threading.Barrier(2) if connection.vendor == "postgresql" else None
    outcomes: list[str] = []

    def insert(role: str) -> None:
        try:
            with transaction.atomic():
                if barrier is not None:
                    barrier.wait()
                RoleAssignment.objects.create(user=newcomer, role=role, organisation=bureau)
            outcomes.append("created")
        except IntegrityError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=insert, args=(role,)) for role in (Role.SUPERVISOR, Role.SYSTEM_ADMIN)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created", "refused"]
    assert len(roles_of(newcomer)) == 1
