"""Core data: organisations, accounts and roles, the audit log, the holiday calendar and dated rules."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q

from yuexiu.core import audit_actions, crypto, identity
from yuexiu.core.crypto import DigestField, EncryptedCharField


class OrganisationKind(models.TextChoices):
    DISTRICT = "district", "区"
    SUBDISTRICT = "subdistrict", "街道"
    COMMUNITY = "community", "社区"
    DEPARTMENT = "department", "部门"


class Organisation(models.Model):
    """A node of the district's organisation tree.

    Districts, subdistricts and communities carry their 12-digit statistical division code as
    ``code`` (a string: codes are not contiguous and keep leading zeros); departments carry the
    platform's own stable code (``440104-XXX``).
    """

    code = models.CharField("编码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=100)
    short_name = models.CharField("简称", max_length=50, blank=True)
    kind = models.CharField("层级", max_length=16, choices=OrganisationKind.choices)
    parent = models.ForeignKey(
        "self", verbose_name="上级", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    parent_code = models.CharField("上级编码", max_length=32, blank=True)
    responsibilities = models.TextField("主要职责", blank=True)
    address = models.CharField("办公地址", max_length=200, blank=True)
    service_phone = models.CharField("咨询电话", max_length=50, blank=True)
    sort_order = models.PositiveIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)
    source = models.CharField("数据来源", max_length=300, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "组织机构"
        verbose_name_plural = "组织机构"
        ordering = ["kind", "sort_order", "code"]
        indexes = [models.Index(fields=["kind", "sort_order"])]

    def __str__(self) -> str:
        return self.name


class PublicRevision(models.Model):
    """The revision of what anonymous visitors read (the service catalogue, bundles, the organisation
    tree): a random token replaced in the same transaction as every change to it
    (core.public_cache.watch_public_models). Cached public pages and the search index are keyed on
    it, so every web process sees a published change at once. One row, ``name="public"``."""

    name = models.CharField("名称", max_length=32, primary_key=True)
    token = models.CharField("版本标识", max_length=32)

    class Meta:
        verbose_name = "公开内容版本"
        verbose_name_plural = "公开内容版本"

    def __str__(self) -> str:
        return f"{self.name}:{self.token}"


class AccountType(models.TextChoices):
    CITIZEN = "citizen", "自然人"
    ENTERPRISE = "enterprise", "法人（企业）"
    STAFF = "staff", "工作人员"


USERNAME_TAKEN_MESSAGE = "该用户名已被注册（不区分大小写和全角半角），请换一个。"


class AccountManager(UserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> User:
        """The account whose name is the same as ``username`` once width and case are set aside
        (``identity.username_key``): the login form and django-axes find accounts through here."""
        return self.get(username_key=identity.username_key(username or ""))


class User(AbstractUser):
    """An account. Citizens carry a validated 身份证号, enterprise users a validated 统一社会信用代码,
    staff a home organisation. Personal numbers are shown masked; full views are audited.

    ``username`` keeps the name as registered (NFKC); ``username_key`` is its width- and case-folded
    form, unique in the database, so that two concurrent registrations of look-alike names cannot
    both succeed."""

    account_type = models.CharField("账号类型", max_length=16, choices=AccountType.choices, default="citizen")
    full_name = models.CharField("姓名", max_length=50, blank=True)
    # Sealed with SM4 (core.crypto); looked up and kept unique through the keyed digest.
    id_number = EncryptedCharField(
        "身份证号", max_length=18, null=True, blank=True, validators=[identity.validate_id_number]
    )
    id_number_digest = DigestField("身份证号摘要", source="id_number", unique=True)
    phone = EncryptedCharField("手机号", max_length=11, blank=True, validators=[identity.validate_mobile])
    enterprise_uscc = models.CharField(
        "统一社会信用代码", max_length=18, blank=True, validators=[identity.validate_uscc]
    )
    enterprise_name = models.CharField("企业名称", max_length=200, blank=True)
    enterprise_verified = models.BooleanField(
        "企业身份已核验",
        default=False,
        help_text="已核验本账号代表该企业（电子营业执照或法定代表人授权）。未核验的企业账号看不到企业库数据，也不能领取政策资金。",
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name="所属单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )
    prefers_elder_mode = models.BooleanField("适老化模式", default=False)
    username_key = models.CharField("用户名（规范形式）", max_length=300, unique=True, editable=False)

    objects = AccountManager()

    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        constraints = [
            models.CheckConstraint(
                condition=~Q(account_type="enterprise") | ~Q(enterprise_uscc=""),
                name="enterprise_user_has_uscc",
            ),
            models.CheckConstraint(
                condition=~Q(account_type="staff") | Q(organisation__isnull=False),
                name="staff_user_has_organisation",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.username_key = identity.username_key(self.username)
        update_fields = crypto.with_digest_fields(self, kwargs.get("update_fields"))
        if update_fields is not None and "username" in update_fields:
            update_fields = {*update_fields, "username_key"}
        if update_fields is not None:
            kwargs["update_fields"] = update_fields
        super().save(*args, **kwargs)

    def clean(self) -> None:
        """Refuse a name that is the same as another account's once width and case are set aside
        (the console's forms call this; registration checks it in ``services``)."""
        super().clean()
        clash = User.objects.filter(username_key=identity.username_key(self.username)).exclude(pk=self.pk)
        if clash.exists():
            raise ValidationError({"username": USERNAME_TAKEN_MESSAGE})

    @property
    def display_name(self) -> str:
        return self.full_name or self.username

    @property
    def masked_id_number(self) -> str:
        return identity.mask_id_number(self.id_number or "")

    @property
    def masked_phone(self) -> str:
        return identity.mask_phone(self.phone)

    @property
    def is_staff_account(self) -> bool:
        return self.account_type == AccountType.STAFF


class Role(models.TextChoices):
    WINDOW_OFFICER = "window_officer", "窗口工作人员"
    APPROVER = "approver", "审批人员"
    SUPERVISOR = "supervisor", "监督人员"
    DATA_OFFICER = "data_officer", "数据专员"
    CHIEF_DATA_OFFICER = "chief_data_officer", "首席数据官"
    INTEGRITY_SUPERVISOR = "integrity_supervisor", "廉政监督员"
    GUIDE_EDITOR = "guide_editor", "办事指南编辑"
    GUIDE_REVIEWER = "guide_reviewer", "办事指南审核"
    HOTLINE_OPERATOR = "hotline_operator", "12345 热线话务员"
    POLICY_OFFICER = "policy_officer", "政策兑现专员"
    SYSTEM_ADMIN = "system_admin", "系统管理员"
    SECURITY_ADMIN = "security_admin", "安全管理员"
    AUDIT_ADMIN = "audit_admin", "审计管理员"


# The three administrators of GB/T 22239-2019 level 3 (三员分立): no account may hold two of them,
# nor one of them together with any business role (``BUSINESS_ROLES``), and they see no business data
# (``core.selectors.visible_organisation_ids``).
ADMINISTRATOR_ROLES: tuple[str, ...] = (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN)
# Every other role: the work of the district (cases, ratings, supervision, policies, guides, data).
BUSINESS_ROLES: tuple[str, ...] = tuple(role for role in Role.values if role not in ADMINISTRATOR_ROLES)
# Roles whose holders see every organisation's records, wherever they are assigned. The
# administrators are not among them: they run the system and see no case, rating or person.
DISTRICT_WIDE_ROLES: tuple[str, ...] = (
    Role.SUPERVISOR,
    Role.CHIEF_DATA_OFFICER,
    Role.INTEGRITY_SUPERVISOR,
    Role.GUIDE_REVIEWER,
)
ROLES_SEPARATED_MESSAGE = "按三员分立要求，系统管理员、安全管理员、审计管理员不能兼任其他任何角色。"


class RoleAssignment(models.Model):
    """A staff account holding a role in an organisation (an approver is per department)."""

    user = models.ForeignKey(User, verbose_name="用户", on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField("角色", max_length=32, choices=Role.choices)
    organisation = models.ForeignKey(
        Organisation, verbose_name="单位", on_delete=models.PROTECT, related_name="role_assignments"
    )
    granted_by = models.ForeignKey(
        User, verbose_name="授权人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField("授权时间", auto_now_add=True)

    class Meta:
        verbose_name = "角色授权"
        verbose_name_plural = "角色授权"
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "organisation"], name="unique_role_per_organisation"),
            # 三员分立 enforced by the database itself, so that no code path (admin, shell, a race
            # between two requests) can give one account two administrator roles.
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(role__in=ADMINISTRATOR_ROLES),
                name="one_administrator_role_per_user",
                violation_error_message="按三员分立要求，一个账号只能担任系统管理员、安全管理员、审计管理员中的一种。",
            ),
            # An administrator role beside a business role on one account is refused by a trigger
            # (migration 0013_administrator_roles_exclusive): a constraint cannot compare two rows.
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.organisation}"


class AuditOutcome(models.TextChoices):
    SUCCEEDED = "succeeded", "成功"
    FAILED = "failed", "失败"
    DENIED = "denied", "拒绝"


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: object) -> int:
        raise PermissionError("审计日志只能追加，不能修改")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("审计日志只能由保存期满清理任务删除")


class AuditEvent(models.Model):
    """One append-only audit entry: who did what, to which object, from where and when.

    Rows are never updated (a database trigger refuses UPDATE); only the retention job removes rows
    older than the retention period (《网络安全法》第二十一条: logs kept at least six months).
    """

    occurred_at = models.DateTimeField("时间", db_index=True)
    actor = models.ForeignKey(
        User, verbose_name="操作人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_username = models.CharField("操作账号", max_length=150, blank=True)
    actor_roles = models.CharField("角色", max_length=300, blank=True)
    organisation = models.ForeignKey(
        Organisation, verbose_name="单位", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField("事件", max_length=64, db_index=True)
    outcome = models.CharField("结果", max_length=16, choices=AuditOutcome.choices, default="succeeded")
    object_type = models.CharField("对象类型", max_length=64, blank=True)
    object_id = models.CharField("对象编号", max_length=64, blank=True)
    object_repr = models.CharField("对象", max_length=200, blank=True)
    changes = models.JSONField("变更内容", default=dict, blank=True)
    message = models.CharField("说明", max_length=500, blank=True)
    ip_address = models.GenericIPAddressField("IP 地址", null=True, blank=True)
    user_agent = models.CharField("客户端", max_length=300, blank=True)
    request_id = models.CharField("请求编号", max_length=32, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = "审计日志"
        verbose_name_plural = "审计日志"
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["actor_username", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.action}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise PermissionError("审计日志只能追加，不能修改")
        with transaction.atomic():
            super().save(*args, **kwargs)  # type: ignore[arg-type]  # passes Django's own arguments through
            # queued for the hash chain (core.audit_chain links it once this transaction has committed)
            AuditChainPending.objects.create(event_id=self.pk)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError("审计日志只能由保存期满清理任务删除")

    @property
    def action_label(self) -> str:
        return audit_actions.action_label(self.action)

    @property
    def role_labels(self) -> str:
        """``window_officer,approver`` as ``窗口工作人员、审批人员``."""
        codes = [code for code in self.actor_roles.split(",") if code]
        return "、".join(Role(code).label if code in Role.values else code for code in codes)


class AuditChainPending(models.Model):
    """An audit entry written but not yet linked into the hash chain (``core.audit_chain``). Rows are
    written with the entry, in its transaction, and removed by the linker once it has linked them."""

    event = models.OneToOneField(
        AuditEvent, primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )

    class Meta:
        verbose_name = "待链接审计日志"
        verbose_name_plural = "待链接审计日志"

    def __str__(self) -> str:
        return f"#{self.event_id}"


class AuditChainLink(models.Model):
    """One link of the audit log's hash chain (GB/T 39786-2021 8.3 c: integrity of audit records by
    SM3): ``content_digest`` = SM3 of the entry's canonical content, ``chain_digest`` =
    SM3(previous chain digest | seq | event id | content digest). Append-only: the database refuses
    UPDATE; rows are removed only when the retention job folds them into a checkpoint."""

    seq = models.BigIntegerField("序号", primary_key=True)
    # no database constraint: a deleted entry must leave its link behind for `yuexiu audit verify` to find
    event = models.OneToOneField(
        AuditEvent,
        verbose_name="审计日志",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="chain_link",
    )
    content_digest = models.CharField("内容摘要", max_length=64)
    chain_digest = models.CharField("链摘要", max_length=64)
    linked_at = models.DateTimeField("链接时间")

    class Meta:
        verbose_name = "审计日志哈希链"
        verbose_name_plural = "审计日志哈希链"
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.chain_digest[:16]}"


class AuditChainPurge(models.Model):
    """A link whose entry the retention job removed (archived first): ``yuexiu audit verify`` accepts
    the missing entry and still checks the link's place in the chain. Append-only."""

    seq = models.BigIntegerField("序号", primary_key=True)
    event_id = models.BigIntegerField("审计日志编号")
    occurred_at = models.DateTimeField("日志时间")
    purged_at = models.DateTimeField("清理时间")
    archive = models.CharField("归档文件", max_length=200)

    class Meta:
        verbose_name = "审计日志清理记录"
        verbose_name_plural = "审计日志清理记录"
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"#{self.seq} → {self.archive}"


class AuditChainCheckpoint(models.Model):
    """Where the chain now begins: every link up to ``seq`` had its entry purged and was removed; the
    chain continues from ``chain_digest``. Append-only."""

    seq = models.BigIntegerField("序号", primary_key=True)
    chain_digest = models.CharField("链摘要", max_length=64)
    created_at = models.DateTimeField("记录时间")

    class Meta:
        verbose_name = "审计日志哈希链检查点"
        verbose_name_plural = "审计日志哈希链检查点"
        ordering = ["-seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.chain_digest[:16]}"


class HolidayYearStatus(models.TextChoices):
    PUBLISHED = "published", "已发布（已导入国务院通知）"
    PENDING = "pending", "未发布（按法定节假日暂定）"


class HolidayYear(models.Model):
    """One year of the national holiday arrangement (国务院办公厅关于部分节假日安排的通知)."""

    year = models.PositiveIntegerField("年份", primary_key=True)
    status = models.CharField("状态", max_length=16, choices=HolidayYearStatus.choices, default="pending")
    notice_number = models.CharField("通知文号", max_length=100, blank=True)
    notice_url = models.URLField("通知链接", blank=True)
    imported_from = models.CharField("数据来源", max_length=200, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "节假日年度安排"
        verbose_name_plural = "节假日年度安排"
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year}年"


class HolidayDay(models.Model):
    """A date that departs from the Monday-to-Friday rule: a holiday, or a 调休 make-up working day."""

    year = models.ForeignKey(HolidayYear, verbose_name="年份", on_delete=models.CASCADE, related_name="days")
    date = models.DateField("日期", unique=True)
    is_working_day = models.BooleanField("调休上班", default=False)
    name = models.CharField("节日", max_length=50, blank=True)

    class Meta:
        verbose_name = "节假日与调休日"
        verbose_name_plural = "节假日与调休日"
        ordering = ["date"]

    def __str__(self) -> str:
        kind = "上班" if self.is_working_day else "放假"
        return f"{self.date} {self.name} {kind}"


class RuleParameter(models.Model):
    """A number or list set by a regulation, valid from a date, with the document that sets it."""

    key = models.CharField("参数", max_length=100)
    effective_from = models.DateField("生效日期")
    effective_to = models.DateField("失效日期", null=True, blank=True)
    value = models.JSONField("取值")
    unit = models.CharField("单位", max_length=30, blank=True)
    source_document = models.CharField("依据文件", max_length=300)
    source_url = models.URLField("来源链接", blank=True, max_length=500)
    confidence = models.CharField("可信度", max_length=1, default="H")
    note = models.CharField("备注", max_length=500, blank=True)

    class Meta:
        verbose_name = "规则参数"
        verbose_name_plural = "规则参数"
        ordering = ["key", "-effective_from"]
        constraints = [models.UniqueConstraint(fields=["key", "effective_from"], name="unique_rule_parameter_version")]

    def __str__(self) -> str:
        return f"{self.key} ({self.effective_from})"


class OutboxMessage(models.Model):
    """A message to send to a person (SMS and the in-platform inbox). The embedded sender only
    writes here; a gateway delivers and sets ``sent_at``. ``dedupe_key`` makes queueing idempotent:
    a retry or a second worker never queues the same notice twice."""

    recipient = models.ForeignKey(
        User, verbose_name="收件人", null=True, blank=True, on_delete=models.CASCADE, related_name="outbox_messages"
    )  # None: a person without an account (a window applicant reached by phone)
    phone = EncryptedCharField("手机号", max_length=11, blank=True)
    phone_digest = DigestField("手机号摘要", source="phone", db_index=True)
    topic = models.CharField("类别", max_length=40)
    subject = models.CharField("标题", max_length=200)
    body = models.CharField("内容", max_length=500)
    link = models.CharField("链接", max_length=300, blank=True)
    dedupe_key = models.CharField("去重键", max_length=200, unique=True)
    created_at = models.DateTimeField("生成时间", auto_now_add=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)

    class Meta:
        verbose_name = "消息发件箱"
        verbose_name_plural = "消息发件箱"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.subject} → {self.recipient or identity.mask_phone(self.phone)}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        kwargs["update_fields"] = crypto.with_digest_fields(self, kwargs.get("update_fields"))
        super().save(*args, **kwargs)


class PasswordResetCode(models.Model):
    """A one-time code sent by SMS to an account's registered phone to set a new password.

    Only a keyed hash of the code is kept (the SMS in the outbox carries the code itself). A code
    serves once, until ``expires_at``, and is spent after too many wrong attempts; a newer request
    ends the older codes."""

    user = models.ForeignKey(User, verbose_name="账号", on_delete=models.CASCADE, related_name="+")
    code_hash = models.CharField("验证码摘要", max_length=64)
    created_at = models.DateTimeField("发送时间")
    expires_at = models.DateTimeField("失效时间")
    failed_attempts = models.PositiveSmallIntegerField("错误次数", default=0)
    used_at = models.DateTimeField("使用时间", null=True, blank=True)
    requested_from = models.GenericIPAddressField("请求 IP", null=True, blank=True)

    class Meta:
        verbose_name = "找回密码验证码"
        verbose_name_plural = "找回密码验证码"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "created_at"])]

    def __str__(self) -> str:
        return f"{self.user} {self.created_at:%Y-%m-%d %H:%M}"


class SecurityEventThrottle(models.Model):
    """Rate limit of one kind of security event per caller and route (``audit.record_concealed_access``):
    when the current window began, and how many events it has held back since the last one recorded,
    so that a scan of object numbers writes one audit entry a minute with a count, not one per request."""

    key = models.CharField("键", max_length=255, unique=True)  # "<action>|<user id or ip:address>|<route>"
    window_started_at = models.DateTimeField("本窗口开始")
    suppressed = models.PositiveIntegerField("未单独记录的次数", default=0)

    class Meta:
        verbose_name = "安全事件限流"
        verbose_name_plural = "安全事件限流"

    def __str__(self) -> str:
        return self.key
