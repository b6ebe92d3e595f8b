"""Demo accounts for the embedded platform: one per role, on Yuexiu's real organisations."""

from __future__ import annotations

from django.db import transaction

from yuexiu.core import services
from yuexiu.core.models import AccountType, Organisation, Role, User

DEMO_PASSWORD = "Yuexiu#2024demo"
DISTRICT = "440104000000"
BUREAU = "440104-ZSJ"

# username, full name, account type, home organisation, role (staff), description
DEMO_ACCOUNTS = [
    ("citizen_demo", "张晓越", AccountType.CITIZEN, None, None, "市民（自然人）"),
    ("enterprise_demo", "李经办", AccountType.ENTERPRISE, None, None, "企业用户"),
    ("window_centre", "许窗口", AccountType.STAFF, BUREAU, Role.WINDOW_OFFICER, "区政务服务中心综合窗口工作人员"),
    ("window_hongqiao", "陈窗口", AccountType.STAFF, "440104001000", Role.WINDOW_OFFICER, "洪桥街道窗口工作人员"),
    ("window_beijing", "黄窗口", AccountType.STAFF, "440104003000", Role.WINDOW_OFFICER, "北京街道窗口工作人员"),
    ("approver_scj", "林审批", AccountType.STAFF, "440104-SJJ", Role.APPROVER, "区市场监管局审批人员"),
    ("editor_scj", "孙编辑", AccountType.STAFF, "440104-SJJ", Role.GUIDE_EDITOR, "区市场监管局办事指南编辑"),
    ("editor_wjj", "钟编辑", AccountType.STAFF, "440104-WJJ", Role.GUIDE_EDITOR, "区卫生健康局办事指南编辑"),
    ("reviewer_zsj", "梁审核", AccountType.STAFF, BUREAU, Role.GUIDE_REVIEWER, "区政数局办事指南审核人员"),
    ("approver_wjj", "邓审批", AccountType.STAFF, "440104-WJJ", Role.APPROVER, "区卫生健康局审批人员"),
    ("approver_gaj", "彭审批", AccountType.STAFF, "440104-GAJ", Role.APPROVER, "公安越秀区分局户政审批人员"),
    ("approver_ybj", "曾审批", AccountType.STAFF, "440104-YBJ", Role.APPROVER, "区医疗保障局审批人员"),
    ("approver_rsj", "谢审批", AccountType.STAFF, "440104-RSJ", Role.APPROVER, "区人力资源和社会保障局审批人员"),
    ("approver_swj", "韩审批", AccountType.STAFF, "440104-SWJ", Role.APPROVER, "区税务局审批人员"),
    ("policy_kgsxj", "何兑现", AccountType.STAFF, "440104-KGSXJ", Role.POLICY_OFFICER, "区科工商信局政策兑现专员"),
    ("policy_rsj", "罗兑现", AccountType.STAFF, "440104-RSJ", Role.POLICY_OFFICER, "区人社局政策兑现专员"),
    ("hotline_demo", "唐话务", AccountType.STAFF, BUREAU, Role.HOTLINE_OPERATOR, "12345 热线话务员"),
    ("supervisor_demo", "周监督", AccountType.STAFF, DISTRICT, Role.SUPERVISOR, "区监督人员"),
    ("data_officer", "吴数据", AccountType.STAFF, BUREAU, Role.DATA_OFFICER, "区政数局数据专员"),
    ("chief_data_officer", "郑首席", AccountType.STAFF, DISTRICT, Role.CHIEF_DATA_OFFICER, "首席数据官"),
    ("integrity_demo", "王廉政", AccountType.STAFF, DISTRICT, Role.INTEGRITY_SUPERVISOR, "廉政监督员"),
    ("sysadmin", "冯系统", AccountType.STAFF, BUREAU, Role.SYSTEM_ADMIN, "系统管理员"),
    ("secadmin", "何安全", AccountType.STAFF, BUREAU, Role.SECURITY_ADMIN, "安全管理员"),
    ("auditadmin", "罗审计", AccountType.STAFF, BUREAU, Role.AUDIT_ADMIN, "审计管理员"),
]


@transaction.atomic
def ensure_demo_accounts() -> int:
    """Create the demo accounts that do not exist. Existing accounts are left as they are."""
    created = 0
    for username, full_name, account_type, organisation_code, role, _ in DEMO_ACCOUNTS:
        if User.objects.filter(username=username).exists():
            continue
        if account_type == AccountType.CITIZEN:
            services.register_citizen(
                username=username,
                password=DEMO_PASSWORD,
                full_name=full_name,
                id_number="440104199001010029",
                phone="13800138000",
            )
        elif account_type == AccountType.ENTERPRISE:
            services.register_enterprise_user(
                username=username,
                password=DEMO_PASSWORD,
                full_name=full_name,
                enterprise_uscc="91440104MA5CYX1KXU",
                enterprise_name="广州越秀示范科技有限公司（演示）",
                phone="13900139000",
            )
            User.objects.filter(username=username).update(enterprise_verified=True)  # the demo is verified
        else:
            organisation = Organisation.objects.get(code=organisation_code)
            user = User(username=username, full_name=full_name, account_type=account_type, organisation=organisation)
            user.set_password(DEMO_PASSWORD)
            user.save()
            services.grant_role(user=user, role=role, organisation=organisation, granted_by=None)
        created += 1
    return created


def describe_demo_accounts() -> str:
    lines = ["", f"演示账号（密码均为 {DEMO_PASSWORD}）："]
    for username, _, _, _, _, description in DEMO_ACCOUNTS:
        lines.append(f"  {username:<20} {description}")
    return "\n".join(lines)
