"""Cases (办件): an application against one guide version, its state, clock, pauses, events and files."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from yuexiu.catalog.models import GuideVersion, ServiceBundle, ServiceItem
from yuexiu.core.crypto import EncryptedCharField, EncryptedJSONField
from yuexiu.core.models import Organisation
from yuexiu.core.text_limits import TextLimit


class CaseStatus(models.TextChoices):
    SUBMITTED = "submitted", "已提交"
    ACCEPTED = "accepted", "已受理（审查中）"
    DECLINED = "declined", "不予受理"
    CORRECTION_REQUESTED = "correction_requested", "待补正"
    SPECIAL_PROCEDURE = "special_procedure", "特殊环节"
    APPROVED = "approved", "准予办理"
    REFUSED = "refused", "不予办理"
    DELIVERED = "delivered", "已送达"
    CLOSED = "closed", "已办结"


# States in which the clock stops (行政许可法 第四十五条; 补正 time is not counted).
PAUSED_STATUSES = (CaseStatus.CORRECTION_REQUESTED, CaseStatus.SPECIAL_PROCEDURE)
# States in which the case is still open for the department.
OPEN_STATUSES = (
    CaseStatus.SUBMITTED,
    CaseStatus.ACCEPTED,
    CaseStatus.CORRECTION_REQUESTED,
    CaseStatus.SPECIAL_PROCEDURE,
    CaseStatus.APPROVED,
    CaseStatus.REFUSED,
    CaseStatus.DELIVERED,
)


class Channel(models.TextChoices):
    ONLINE = "online", "网上申请"
    WINDOW = "window", "窗口申请"


class DeliveryMethod(models.TextChoices):
    PICKUP = "pickup", "窗口领取"
    POST = "post", "邮寄送达"
    ELECTRONIC = "electronic", "电子证照"


class CaseCounter(models.Model):
    """Per-day sequence behind case numbers (locked row, so numbers are unique and gap-free per day)."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class BundleCase(models.Model):
    """One application for a 一件事 bundle: one merged form, one set of materials; it fans out into a
    sub-case per item (``Case.bundle_case``), and its status and clock derive from them."""

    number = models.CharField("一件事编号", max_length=32, unique=True)
    bundle = models.ForeignKey(ServiceBundle, verbose_name="一件事", on_delete=models.PROTECT, related_name="cases")
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申请人账号", on_delete=models.PROTECT, related_name="bundle_cases"
    )
    applicant_name = models.CharField("申请人", max_length=200)
    idempotency_key = models.CharField("提交标识", max_length=64)
    form_data = EncryptedJSONField("一表申请", default=dict)  # may hold 身份证号 (父母身份号码): SM4
    promised_limit_days = models.PositiveIntegerField("整体承诺时限（工作日）", null=True, blank=True)
    submitted_at = models.DateTimeField("提交时间")

    class Meta:
        verbose_name = "一件事办件"
        verbose_name_plural = "一件事办件"
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["applicant", "idempotency_key"], name="one_bundle_case_per_submission")
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.bundle.name}"


class Case(models.Model):
    number = models.CharField("办件编号", max_length=32, unique=True)
    bundle_case = models.ForeignKey(
        BundleCase,
        verbose_name="所属一件事",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sub_cases",
    )
    item = models.ForeignKey(ServiceItem, verbose_name="事项", on_delete=models.PROTECT, related_name="cases")
    guide_version = models.ForeignKey(
        GuideVersion, verbose_name="办事指南版本", on_delete=models.PROTECT, related_name="cases"
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name="办理部门", on_delete=models.PROTECT, related_name="cases"
    )
    intake_organisation = models.ForeignKey(
        Organisation, verbose_name="受理窗口", on_delete=models.PROTECT, related_name="intake_cases"
    )
    channel = models.CharField("申请渠道", max_length=10, choices=Channel.choices)
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="申请人账号",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    applicant_name = models.CharField("申请人", max_length=TextLimit.TITLE)
    applicant_id_number = EncryptedCharField("证件号码", max_length=18, blank=True)  # SM4 (core.crypto)
    applicant_phone = EncryptedCharField("联系电话", max_length=11, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="代录人员",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The same person across accounts and channels (cases.services.applicant_identity): a second open
    # application for the same item needs the applicant's confirmation (``repeat_confirmed``).
    # "id:<HMAC-SM3 of the 身份证号>", "uscc:<统一社会信用代码>" or "user:<id>"; never the plain 身份证号
    applicant_identity = models.CharField("申请人身份标识", max_length=80, blank=True)
    repeat_confirmed = models.BooleanField("已确认重复申请", default=False)
    idempotency_key = models.CharField("提交标识", max_length=64)
    form_data = EncryptedJSONField("申请表", default=dict)  # may hold 身份证号, phones, accounts: SM4
    status = models.CharField("状态", max_length=24, choices=CaseStatus.choices, default=CaseStatus.SUBMITTED)
    version = models.PositiveIntegerField("版本", default=1)
    submitted_at = models.DateTimeField("提交时间")
    accepted_at = models.DateTimeField("受理时间", null=True, blank=True)
    statutory_limit_days = models.PositiveIntegerField("法定办结时限（工作日）", null=True, blank=True)
    promised_limit_days = models.PositiveIntegerField("承诺办结时限（工作日）", null=True, blank=True)
    promised_deadline = models.DateTimeField("承诺办结期限", null=True, blank=True)
    statutory_deadline = models.DateTimeField("法定办结期限", null=True, blank=True)
    # 行政许可法 第四十二条: an approved extension (once); already counted in ``statutory_deadline``.
    statutory_extension_days = models.PositiveSmallIntegerField("法定时限延长（工作日）", default=0)
    # 行政许可法 第四十四条: a licence is issued and served within this many working days of the approval.
    service_limit_days = models.PositiveSmallIntegerField("送达时限（工作日）", null=True, blank=True)
    service_deadline = models.DateTimeField("送达期限", null=True, blank=True, db_index=True)
    # Instants at which supervision rules fire, kept current on every transition so that the sweep is
    # an indexed query (see cases.services.refresh_deadlines and supervision.services.sweep).
    due_at = models.DateTimeField("到期时间", null=True, blank=True, db_index=True)
    deadline_is_provisional = models.BooleanField(
        "期限暂定",
        default=False,
        help_text="期限所跨年度的国务院节假日安排通知尚未导入，按法定节假日推算；导入后自动重算。",
    )
    warning_at = models.DateTimeField("预警时间", null=True, blank=True, db_index=True)
    pause_alert_at = models.DateTimeField("暂停过久预警时间", null=True, blank=True, db_index=True)
    correction_count = models.PositiveSmallIntegerField("补正次数", default=0)
    corrections_beyond_guide = models.PositiveSmallIntegerField("超出指南的补正要求", default=0)
    decision_reason = models.TextField("决定理由", max_length=TextLimit.OPINION, blank=True)
    decision_legal_basis = models.CharField("决定依据", max_length=TextLimit.LINE, blank=True)
    decided_at = models.DateTimeField("决定时间", null=True, blank=True)
    delivery_method = models.CharField("送达方式", max_length=12, choices=DeliveryMethod.choices, blank=True)
    tracking_number = models.CharField("邮件单号", max_length=40, blank=True)
    delivered_at = models.DateTimeField("送达时间", null=True, blank=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)

    class Meta:
        verbose_name = "办件"
        verbose_name_plural = "办件"
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["applicant", "idempotency_key"],
                condition=Q(applicant__isnull=False),
                name="one_case_per_submission",
            ),
            models.UniqueConstraint(
                fields=["registered_by", "idempotency_key"],
                condition=Q(registered_by__isnull=False),
                name="one_case_per_window_registration",
            ),
            # One open application per person and item unless the applicant confirmed another: two
            # submissions racing past the service's check cannot both create a case.
            models.UniqueConstraint(
                fields=["item", "applicant_identity"],
                condition=Q(repeat_confirmed=False, bundle_case__isnull=True, status__in=OPEN_STATUSES)
                & ~Q(applicant_identity=""),
                name="one_unconfirmed_open_case_per_person_and_item",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "status"]),
            models.Index(fields=["status", "due_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.item.name}"

    @property
    def is_paused(self) -> bool:
        return self.status in PAUSED_STATUSES


class PauseKind(models.TextChoices):
    CORRECTION = "correction", "补正"
    SPECIAL_PROCEDURE = "special_procedure", "特殊环节"


class CasePause(models.Model):
    """A stopped interval of the clock: a correction request or a special procedure (听证, 检验检测 …)."""

    case = models.ForeignKey(Case, verbose_name="办件", on_delete=models.CASCADE, related_name="pauses")
    kind = models.CharField("类型", max_length=20, choices=PauseKind.choices)
    name = models.CharField("环节", max_length=TextLimit.NAME)
    legal_basis = models.CharField("依据", max_length=TextLimit.LINE, blank=True)
    details = models.JSONField("内容", default=list)
    started_at = models.DateTimeField("开始时间")
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)

    class Meta:
        verbose_name = "暂停计时"
        verbose_name_plural = "暂停计时"
        ordering = ["case_id", "started_at"]
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=Q(ended_at__isnull=True), name="one_open_pause_per_case")
        ]

    def __str__(self) -> str:
        return f"{self.case.number} {self.get_kind_display()}"


ACTION_LABELS = {
    "citywide_registered": "登记全市通办",
    "handed_over": "移交材料",
    "submitted": "提交申请",
    "accepted": "受理",
    "declined": "不予受理",
    "correction_requested": "一次性告知补正",
    "corrected": "提交补正",
    "special_procedure_started": "进入特殊环节",
    "special_procedure_ended": "特殊环节结束",
    "approved": "准予办理",
    "refused": "不予办理",
    "delivered": "送达",
    "closed": "办结",
    "deadlines_recomputed": "按节假日安排重算期限",
    "deadline_extended": "延长审批期限",
}


class CaseEvent(models.Model):
    """One transition or action on a case, as the applicant and the staff see it in the history."""

    case = models.ForeignKey(Case, verbose_name="办件", on_delete=models.CASCADE, related_name="events")
    action = models.CharField("操作", max_length=40)
    from_status = models.CharField("原状态", max_length=24, blank=True)
    to_status = models.CharField("新状态", max_length=24)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    occurred_at = models.DateTimeField("时间")
    note = models.TextField("说明", blank=True)

    class Meta:
        verbose_name = "办件记录"
        verbose_name_plural = "办件记录"
        ordering = ["case_id", "occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.case.number} {self.action}"

    @property
    def action_label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)

    @property
    def to_status_label(self) -> str:
        return CaseStatus(self.to_status).label if self.to_status in CaseStatus.values else self.to_status


class ExtensionStatus(models.TextChoices):
    REQUESTED = "requested", "待负责人批准"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "未批准"


class ExtensionKind(models.TextChoices):
    DECISION = "decision", "延长审批期限"
    JOINT_HANDLING = "joint_handling", "延长联合办理期限"


# A request waiting for its approval, or an approved one: at most one per case or bundle application.
LIVE_EXTENSION_STATUSES = (ExtensionStatus.REQUESTED, ExtensionStatus.APPROVED)


class DeadlineExtension(models.Model):
    """延长审批期限 (行政许可法 第四十二条): the handler asks, the head of the agency (the department's
    审批人员 on the platform) approves, the applicant is told why. A licensing case is extended once
    (``decision``, 10 working days); a 一件事 handled jointly once (``joint_handling``, 15 working days,
    approved for the 本级人民政府 by the lead department). Exactly one of ``case`` and ``bundle_case``."""

    case = models.ForeignKey(
        Case, verbose_name="办件", null=True, blank=True, on_delete=models.CASCADE, related_name="extensions"
    )
    bundle_case = models.ForeignKey(
        BundleCase,
        verbose_name="一件事办件",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="extensions",
    )
    kind = models.CharField("类型", max_length=16, choices=ExtensionKind.choices)
    days = models.PositiveSmallIntegerField("延长天数（工作日）")
    legal_basis = models.CharField("依据", max_length=TextLimit.LINE)
    reason = models.TextField("延长理由", max_length=TextLimit.OPINION)
    status = models.CharField("状态", max_length=12, choices=ExtensionStatus.choices, default=ExtensionStatus.REQUESTED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="提出人", on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField("申请时间")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审批人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_note = models.TextField("审批意见", max_length=TextLimit.OPINION, blank=True)
    deadline_before = models.DateTimeField("原法定期限", null=True, blank=True)
    deadline_after = models.DateTimeField("延长后法定期限", null=True, blank=True)

    class Meta:
        verbose_name = "延长审批期限"
        verbose_name_plural = "延长审批期限"
        ordering = ["requested_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(case__isnull=False, bundle_case__isnull=True)
                | Q(case__isnull=True, bundle_case__isnull=False),
                name="extension_of_a_case_or_a_bundle_case",
            ),
            # Once only, and one request at a time: two handlers asking at once, or a request after the
            # approval, cannot both be stored whatever the services check first.
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(case__isnull=False, status__in=LIVE_EXTENSION_STATUSES),
                name="one_live_extension_per_case",
            ),
            models.UniqueConstraint(
                fields=["bundle_case"],
                condition=Q(bundle_case__isnull=False, status__in=LIVE_EXTENSION_STATUSES),
                name="one_live_extension_per_bundle_case",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.days} 个工作日（{self.get_status_display()}）"


class Attachment(models.Model):
    case = models.ForeignKey(Case, verbose_name="办件", on_delete=models.CASCADE, related_name="attachments")
    material_name = models.CharField("材料", max_length=200)
    file = models.FileField("文件", upload_to="cases/%Y/%m/")
    original_name = models.CharField("原文件名", max_length=255)
    content_type = models.CharField("类型", max_length=100)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="上传人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField("上传时间")

    class Meta:
        verbose_name = "申请材料文件"
        verbose_name_plural = "申请材料文件"
        ordering = ["case_id", "uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class TransferDirection(models.TextChoices):
    OUTGOING = "outgoing", "本区代收、外地办理"
    INCOMING = "incoming", "外地代收、本区办理"


class HandoverMethod(models.TextChoices):
    POST = "post", "邮寄材料"
    ELECTRONIC = "electronic", "电子流转"


class ResultPlace(models.TextChoices):
    INTAKE = "intake", "在受理窗口领取"
    HOME = "home", "在办理地领取"
    POST = "post", "邮寄到家"


class CitywideTransfer(models.Model):
    """全市通办 (异地代收代办, 国办发〔2020〕35号): a case taken in at one place and decided at another.
    The clock starts when the home-area body accepts (domain/rules.md §11; the starting rule is our
    reading, marked [U] there)."""

    case = models.OneToOneField(Case, verbose_name="办件", on_delete=models.CASCADE, related_name="transfer")
    direction = models.CharField("方向", max_length=10, choices=TransferDirection.choices)
    other_body = models.CharField("对方机构", max_length=TextLimit.TITLE)
    handover_method = models.CharField("材料流转方式", max_length=12, choices=HandoverMethod.choices, blank=True)
    tracking_number = models.CharField("邮件单号", max_length=40, blank=True)
    handed_over_at = models.DateTimeField("移交时间", null=True, blank=True)
    home_accepted_at = models.DateTimeField("办理地受理时间", null=True, blank=True)
    result_place = models.CharField("结果领取方式", max_length=10, choices=ResultPlace.choices)

    class Meta:
        verbose_name = "全市通办流转"
        verbose_name_plural = "全市通办流转"

    def __str__(self) -> str:
        return f"{self.case.number} {self.get_direction_display()} {self.other_body}"
