"""Accounts and roles: identity checks, masking, 三员分立, and organisation scoping in selectors."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from yuexiu.core import crypto, selectors, services
from yuexiu.core.errors import Conflict, DomainError, PermissionDeniedError
from yuexiu.core.models import AuditEvent, Organisation, Role, RoleAssignment, User

pytestmark = pytest.mark.django_db


def test_a_citizen_registers_with_a_valid_id_number_stored_canonically(reference_data, password):
    user = services.register_citizen(
        username="liming", password=password, full_name="黎明", id_number="11010519491231002x"
    )
    assert user.id_number == "11010519491231002X"
    assert user.masked_id_number == "110105********002X"
    assert AuditEvent.objects.filter(action="account.registered", actor=user).count() == 1


def test_a_wrong_check_digit_is_refused_and_nothing_is_saved(reference_data, password):
    with pytest.raises(DomainError, match="身份证号码无效"):
        services.register_citizen(
            username="liming", password=password, full_name="黎明", id_number="110105194912310021"
        )
    assert not User.objects.filter(username="liming").exists()


def test_an_enterprise_user_is_bound_to_a_valid_uscc(reference_data, password):
    user = services.register_enterprise_user(
        username="firm",
        password=password,
        full_name="经办人",
        enterprise_uscc="91440104712421962C",
        enterprise_name="某公司",
    )
    assert user.enterprise_uscc == "91440104712421962C"
    with pytest.raises(DomainError, match="统一社会信用代码无效"):
        services.register_enterprise_user(
            username="firm2",
            password=password,
            full_name="经办人",
            enterprise_uscc="91440104712421962D",
            enterprise_name="某公司",
        )


def test_a_simple_password_is_refused_in_chinese(reference_data):
    with pytest.raises(DomainError, match="至少 3 类"):
        services.register_citizen(
            username="liming", password="abcdefghijkl", full_name="黎明", id_number="11010519491231002X"
        )


def test_the_same_id_number_cannot_register_twice(reference_data, password):
    services.register_citizen(username="a1", password=password, full_name="甲", id_number="11010519491231002X")
    again = services.register_citizen(username="a2", password=password, full_name="乙", id_number="11010519491231002X")
    assert again is None
    owners = User.objects.filter(id_number_digest=crypto.digest("11010519491231002X"))
    assert list(owners.values_list("username", flat=True)) == ["a1"]


def test_phone_numbers_are_masked():
    assert User(phone="13800138000").masked_phone == "138****8000"


def test_an_administrator_cannot_take_a_second_administrator_role(cast):
    sysadmin = cast["sysadmin"]
    bureau = Organisation.objects.get(code="440104-ZSJ")
    with pytest.raises(Conflict, match="该账号已是系统管理员"):
        services.grant_role(user=sysadmin, role=Role.AUDIT_ADMIN, organisation=bureau, granted_by=None)
    assert list(sysadmin.role_assignments.values_list("role", flat=True)) == ["system_admin"]


def test_the_database_itself_refuses_two_administrator_roles(cast):
    bureau = Organisation.objects.get(code="440104-ZSJ")
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(user=cast["secadmin"], role=Role.AUDIT_ADMIN, organisation=bureau)


def test_only_a_system_administrator_grants_roles(cast):
    officer = cast["window_beijing"]
    hongqiao = Organisation.objects.get(code="440104001000")
    with pytest.raises(PermissionDeniedError):
        services.grant_role(user=officer, role=Role.APPROVER, organisation=hongqiao, granted_by=cast["supervisor_demo"])
    assert not officer.role_assignments.filter(role=Role.APPROVER).exists()
    services.grant_role(user=officer, role=Role.APPROVER, organisation=hongqiao, granted_by=cast["sysadmin"])
    assert officer.role_assignments.filter(role=Role.APPROVER, organisation=hongqiao).exists()


def test_roles_are_only_for_staff(cast):
    bureau = Organisation.objects.get(code="440104-ZSJ")
    with pytest.raises(DomainError, match="只能为工作人员"):
        services.grant_role(user=cast["citizen_demo"], role=Role.APPROVER, organisation=bureau, granted_by=None)


def test_a_window_officer_sees_only_staff_of_their_own_subdistrict(cast):
    visible = set(selectors.list_staff(viewer=cast["window_hongqiao"]).values_list("username", flat=True))
    assert visible == {"window_hongqiao"}


def test_a_district_supervisor_sees_staff_of_every_organisation(cast):
    visible = set(selectors.list_staff(viewer=cast["supervisor_demo"]).values_list("username", flat=True))
    assert {"window_hongqiao", "window_beijing", "approver_scj", "auditadmin"} <= visible
    assert "citizen_demo" not in visible


def test_a_role_in_a_subdistrict_also_covers_its_communities(cast):
    hongqiao = Organisation.objects.get(code="440104001000")
    community = Organisation.objects.create(code="440104001001", name="测试社区", kind="community", parent=hongqiao)
    member = User.objects.create(username="community_worker", account_type="staff", organisation=community)
    assert "community_worker" in set(
        selectors.list_staff(viewer=cast["window_hongqiao"]).values_list("username", flat=True)
    )
    assert member.pk not in set(selectors.list_staff(viewer=cast["window_beijing"]).values_list("pk", flat=True))


def test_citizens_see_no_internal_records(cast):
    assert selectors.list_staff(viewer=cast["citizen_demo"]).count() == 0


def test_seeing_ones_own_full_id_number_is_audited(cast):
    citizen = cast["citizen_demo"]
    assert services.reveal_personal_data(viewer=citizen, subject=citizen, field="id_number") == "440104199001010029"
    assert AuditEvent.objects.filter(action="personal_data.viewed", actor=citizen).count() == 1


def test_seeing_someone_elses_id_number_is_refused(cast):
    with pytest.raises(PermissionDeniedError):
        services.reveal_personal_data(viewer=cast["window_hongqiao"], subject=cast["citizen_demo"], field="id_number")
    assert not AuditEvent.objects.filter(action="personal_data.viewed").exists()


def test_the_profile_page_masks_the_id_number_until_asked(client, cast, password):
    client.force_login(cast["citizen_demo"])
    page = client.get("/accounts/profile/").content.decode()
    assert "440104********0029" in page
    assert "440104199001010029" not in page
    revealed = client.post("/accounts/profile/", {"reveal": "id_number"}).content.decode()
    assert "440104199001010029" in revealed


def test_registration_page_creates_a_citizen(client, reference_data, password):
    response = client.post(
        "/accounts/register/",
        {
            "account_type": "citizen",
            "username": "newbie",
            "full_name": "新用户",
            "id_number": "11010519491231002X",
            "phone": "",
            "password": password,
        },
    )
    assert response.status_code == 302
    assert User.objects.get(username="newbie").account_type == "citizen"


def test_registration_with_a_bad_id_number_shows_why_and_keeps_the_input(client, reference_data, password):
    response = client.post(
        "/accounts/register/",
        {
            "account_type": "citizen",
            "username": "newbie",
            "full_name": "新用户",
            "id_number": "110105194912310021",
            "phone": "",
            "password": password,
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "身份证号码无效" in html
    assert 'value="newbie"' in html
    assert not User.objects.filter(username="newbie").exists()


def test_usernames_with_spaces_or_differing_only_in_case_are_refused(reference_data, password):
    with pytest.raises(DomainError, match="用户名只能包含"):
        services.register_citizen(
            username="nu c1<x>", password=password, full_name="甲", id_number="11010519491231002X"
        )
    services.register_citizen(username="liming", password=password, full_name="甲", id_number="11010519491231002X")
    with pytest.raises(DomainError, match="该用户名已被注册"):
        services.register_citizen(username="LiMing", password=password, full_name="乙", id_number="440104198503151230")


def test_an_id_number_born_in_the_future_is_refused(reference_data, password):
    with pytest.raises(DomainError, match="出生日期晚于今天"):
        services.register_citizen(username="future", password=password, full_name="甲", id_number="440104203001011231")


def test_a_short_password_is_explained_in_chinese(reference_data):
    with pytest.raises(DomainError, match="密码太短：至少需要 10 个字符"):
        services.register_citizen(username="short", password="Ab1!", full_name="甲", id_number="11010519491231002X")
