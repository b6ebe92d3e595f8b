"""政策兑现: the enterprise registry (一企一档), the policy library with its rule files, fund pools,
matching runs and the fulfilment loop of each candidate (review → 公示 → confirmation → payment).

Money is stored in 分 (BigIntegerField, ``*_fen``) wherever it is accounted; registry amounts are
元 with two decimals, as the source registers give them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from yuexiu.core.crypto import EncryptedCharField
from yuexiu.core.models import Organisation


class Enterprise(models.Model):
    """One enterprise of the registry, keyed by its 统一社会信用代码 (never by its name)."""

    uscc = models.CharField("统一社会信用代码", max_length=18, unique=True)
    name = models.CharField("企业名称", max_length=200, db_index=True)
    district = models.CharField("注册地所在区", max_length=20, blank=True)
    subdistrict = models.CharField("注册地所在街道", max_length=20, blank=True)
    tax_district = models.CharField("税务征管关系所在区", max_length=20, blank=True)
    stats_district = models.CharField("统计关系所在区", max_length=20, blank=True)
    industry_code = models.CharField("行业代码（GB/T 4754-2017）", max_length=4, blank=True)
    enterprise_type = models.CharField("企业类型", max_length=40, blank=True)
    foreign_invested = models.BooleanField("外商投资企业", null=True, blank=True)
    established_on = models.DateField("成立日期", null=True, blank=True)
    settled_on = models.DateField("落户越秀日期", null=True, blank=True)
    listed_on = models.DateField("上市日期", null=True, blank=True)
    little_giant_on = models.DateField("专精特新“小巨人”首次认定日期", null=True, blank=True)
    registered_capital = models.DecimalField(
        "注册资本（元，登记币种）", max_digits=18, decimal_places=2, null=True, blank=True
    )
    paid_in_capital = models.DecimalField(
        "实缴资本（元，登记币种）", max_digits=18, decimal_places=2, null=True, blank=True
    )
    capital_currency = models.CharField("注册资本币种", max_length=3, blank=True)
    employees = models.IntegerField("从业人数", null=True, blank=True)
    insured_employees_monthly = models.JSONField("各月社保参保人数", null=True, blank=True)
    revenue = models.DecimalField("上年度营业收入（元）", max_digits=18, decimal_places=2, null=True, blank=True)
    revenue_prev = models.DecimalField("前年营业收入（元）", max_digits=18, decimal_places=2, null=True, blank=True)
    tax_paid = models.DecimalField("上年度纳税总额（元）", max_digits=18, decimal_places=2, null=True, blank=True)
    district_contribution = models.DecimalField(
        "上年度对区贡献（元）", max_digits=18, decimal_places=2, null=True, blank=True
    )
    rd_expense = models.DecimalField("上年度研发费用（元）", max_digits=18, decimal_places=2, null=True, blank=True)
    tags = models.JSONField("企业标签", default=list, blank=True)
    credit_status = models.CharField("信用状况", max_length=10, blank=True)
    is_synthetic = models.BooleanField("模拟数据", default=False)
    source = models.CharField("数据来源", max_length=200, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "企业（一企一档）"
        verbose_name_plural = "企业（一企一档）"
        ordering = ["uscc"]

    def __str__(self) -> str:
        return f"{self.name}（{self.uscc}）"


class Mode(models.TextChoices):
    NO_APPLICATION = "免申即享", "免申即享"
    APPLICATION = "申报", "申报（预检后申请）"


class PolicyDocument(models.Model):
    code = models.SlugField("编码", max_length=64, unique=True)
    number = models.CharField("文号", max_length=100, blank=True)
    title = models.CharField("标题", max_length=300)
    issuer = models.CharField("发布机关", max_length=300, blank=True)
    effective = models.DateField("生效日期", null=True, blank=True, help_text="空白：来源未载明，待核实")
    expires = models.DateField("失效日期", null=True, blank=True, help_text="空白：来源未载明（或长期有效）")
    expires_open = models.BooleanField("长期有效（文件未规定失效日期）", default=False)
    validity_source = models.CharField("有效期依据（文号、条款）", max_length=300, blank=True)
    source_url = models.URLField("来源", max_length=500, blank=True)
    confidence = models.CharField("可信度", max_length=1, blank=True)
    illustration = models.BooleanField("示例（非真实条款）", default=False)
    notes = models.TextField("说明", blank=True)
    other_district = models.CharField(
        "其他区政策所属区", max_length=20, blank=True, help_text="空白：适用于越秀区企业（区、市、省、国家政策）"
    )

    class Meta:
        verbose_name = "政策文件"
        verbose_name_plural = "政策文件"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.number or '（无文号）'} {self.title}"

    @property
    def validity_recorded(self) -> bool:
        """Both ends of the validity are known. An unknown date (null: the source did not print it) is
        not "open-ended": the document is matched on no day until an officer records it."""
        return self.effective is not None and (self.expires is not None or self.expires_open)


class RuleFile(models.Model):
    """A revision of a policy's rule file (YAML). The newest revision is in force; old revisions
    stay so that every decision can show the rules it was made under."""

    policy = models.ForeignKey(
        PolicyDocument, verbose_name="政策文件", on_delete=models.PROTECT, related_name="rule_files"
    )
    revision = models.PositiveIntegerField("修订号")
    text = models.TextField("规则文件")
    sha256 = models.CharField("摘要", max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="修订人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("修订时间", auto_now_add=True)

    class Meta:
        verbose_name = "规则文件修订"
        verbose_name_plural = "规则文件修订"
        ordering = ["policy", "-revision"]
        constraints = [models.UniqueConstraint(fields=["policy", "revision"], name="one_rule_revision_number")]

    def __str__(self) -> str:
        return f"{self.policy.code} 第{self.revision}版"


class BenefitItem(models.Model):
    """兑现事项. Its identity and description; the conditions and amounts are in the rule file."""

    code = models.SlugField("事项编码", max_length=64, unique=True)
    policy = models.ForeignKey(PolicyDocument, verbose_name="政策文件", on_delete=models.PROTECT, related_name="items")
    name = models.CharField("事项名称", max_length=200)
    clause = models.CharField("条款", max_length=200, blank=True)
    mode = models.CharField("兑现方式", max_length=8, choices=Mode.choices)
    department_name = models.CharField("主管部门", max_length=100, blank=True)
    organisation = models.ForeignKey(
        Organisation, verbose_name="区内主管单位", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    fund_source = models.CharField("资金来源", max_length=100, blank=True)
    confidence = models.CharField("可信度", max_length=1, blank=True)
    incomplete = models.CharField("未完成原因（奖励标准未读到等）", max_length=500, blank=True)
    illustration = models.BooleanField("示例（非真实条款）", default=False)
    beneficiaries = models.TextField("扶持对象", blank=True)
    award_text = models.TextField("扶持标准（原文概述）", blank=True)
    notes = models.TextField("说明", blank=True)
    position = models.PositiveIntegerField("序号", default=0)

    class Meta:
        verbose_name = "兑现事项"
        verbose_name_plural = "兑现事项"
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.name


class FundPool(models.Model):
    """An item's budget. Approved amounts are committed when approved and move to paid when paid;
    the database refuses any state where committed + paid passes the budget."""

    item = models.OneToOneField(
        BenefitItem, verbose_name="兑现事项", on_delete=models.PROTECT, related_name="fund_pool"
    )
    budget_fen = models.BigIntegerField("预算（分）")
    committed_fen = models.BigIntegerField("已核定未拨付（分）", default=0)
    paid_fen = models.BigIntegerField("已拨付（分）", default=0)

    class Meta:
        verbose_name = "资金池"
        verbose_name_plural = "资金池"
        constraints = [
            models.CheckConstraint(
                condition=Q(committed_fen__gte=0)
                & Q(paid_fen__gte=0)
                & Q(budget_fen__gte=F("committed_fen") + F("paid_fen")),
                name="fund_pool_never_overspent",
            )
        ]

    def __str__(self) -> str:
        return f"{self.item.name} 资金池"

    @property
    def available_fen(self) -> int:
        return self.budget_fen - self.committed_fen - self.paid_fen


class RunStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "匹配中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class MatchRun(models.Model):
    """One matching run of the whole registry against every item in force on ``as_of``."""

    period = models.PositiveIntegerField("所属年度")
    as_of = models.DateField("匹配基准日")
    status = models.CharField("状态", max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    stage = models.CharField("当前步骤", max_length=100, blank=True)
    progress = models.PositiveSmallIntegerField("进度（%）", default=0)
    enterprises = models.PositiveIntegerField("企业数", default=0)
    items = models.PositiveIntegerField("事项数", default=0)
    pairs = models.PositiveIntegerField("符合条件的企业-事项对", default=0)
    leads = models.PositiveIntegerField("申报线索（须主管部门认定）", default=0)
    candidates = models.PositiveIntegerField("新增免申即享候选", default=0)
    by_item = models.JSONField("分事项结果", default=dict, blank=True)
    snapshot_path = models.CharField("数据快照", max_length=500, blank=True)
    snapshot_sha256 = models.CharField("快照摘要", max_length=64, blank=True)
    engine_seconds = models.FloatField("引擎用时（秒）", null=True, blank=True)
    error = models.TextField("错误", blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发起人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("发起时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    updated_at = models.DateTimeField("最近进展", auto_now=True)
    # The lease of the execution working on the run (services.execute_run): who claimed it, its last
    # heartbeat, and how many executions claimed it (more than one: a worker was stopped mid-run and
    # another took over).
    claimed_by = models.CharField("执行进程", max_length=120, blank=True)
    heartbeat_at = models.DateTimeField("执行进程最近心跳", null=True, blank=True)
    attempts = models.PositiveSmallIntegerField("执行次数", default=0)

    class Meta:
        verbose_name = "匹配批次"
        verbose_name_plural = "匹配批次"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"匹配批次 {self.pk}（{self.period}年）"


class CandidateStatus(models.TextChoices):
    PENDING_REVIEW = "pending_review", "待审核"
    REJECTED = "rejected", "不予兑现"
    APPROVED = "approved", "审核通过"
    IN_PUBLICITY = "in_publicity", "公示中"
    PUBLICITY_PASSED = "publicity_passed", "公示无异议"
    ORDERED = "ordered", "已下达拨付"
    PAID = "paid", "已拨付"


# A candidate in these states holds money of its item's pool (committed or paid).
HOLDS_FUNDS = (
    CandidateStatus.APPROVED,
    CandidateStatus.IN_PUBLICITY,
    CandidateStatus.PUBLICITY_PASSED,
    CandidateStatus.ORDERED,
    CandidateStatus.PAID,
)


class Source(models.TextChoices):
    MATCH = "match", "数据匹配（免申即享）"
    APPLICATION = "application", "企业申报"


class Publicity(models.Model):
    """公示: a published list of one item's approved beneficiaries, for a period from the rule table."""

    item = models.ForeignKey(BenefitItem, verbose_name="兑现事项", on_delete=models.PROTECT, related_name="publicities")
    starts_at = models.DateTimeField("公示开始")
    ends_at = models.DateTimeField("公示截止")
    working_days = models.PositiveSmallIntegerField("公示期（工作日）")
    objection_rule = models.TextField("异议方式")
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发布人", on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField("公示结束", null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="结束人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "公示"
        verbose_name_plural = "公示"
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return f"{self.item.name} 公示（{self.starts_at:%Y-%m-%d}）"


class Candidate(models.Model):
    """An enterprise and an item it qualifies for in a period, from a matching run or an application,
    with the registry data the decision used (``snapshot``): later registry edits change nothing here."""

    item = models.ForeignKey(BenefitItem, verbose_name="兑现事项", on_delete=models.PROTECT, related_name="candidates")
    enterprise = models.ForeignKey(Enterprise, verbose_name="企业", on_delete=models.PROTECT, related_name="candidates")
    period = models.PositiveIntegerField("所属年度")
    source = models.CharField("来源", max_length=12, choices=Source.choices)
    run = models.ForeignKey(
        MatchRun, verbose_name="匹配批次", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rule_file = models.ForeignKey(RuleFile, verbose_name="所用规则", on_delete=models.PROTECT, related_name="+")
    as_of = models.DateField("判断基准日")
    snapshot = models.JSONField("决定所用数据")
    failed_mask = models.BigIntegerField("未满足条件位图", default=0)
    engine_amount_fen = models.BigIntegerField("测算金额（分）", null=True, blank=True)
    approved_fen = models.BigIntegerField("核定金额（分）", null=True, blank=True)
    declarations = models.JSONField("申报承诺（人工条件）", default=list, blank=True)
    status = models.CharField(
        "状态", max_length=20, choices=CandidateStatus.choices, default=CandidateStatus.PENDING_REVIEW
    )
    review_note = models.TextField("审核意见", blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    publicity = models.ForeignKey(
        Publicity, verbose_name="公示", null=True, blank=True, on_delete=models.PROTECT, related_name="candidates"
    )
    confirmed_at = models.DateTimeField("企业确认时间", null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="确认人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    bank_name = models.CharField("开户银行", max_length=100, blank=True)
    bank_account = EncryptedCharField("银行账号", max_length=32, blank=True)  # SM4 (core.crypto)
    notified_at = models.DateTimeField("通知时间", null=True, blank=True)
    version = models.PositiveIntegerField("版本", default=1)
    created_at = models.DateTimeField("生成时间", auto_now_add=True)

    class Meta:
        verbose_name = "兑现候选"
        verbose_name_plural = "兑现候选"
        ordering = ["item", "-engine_amount_fen", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "enterprise", "period"], name="one_candidate_per_item_enterprise_period"
            )
        ]
        indexes = [models.Index(fields=["item", "status"]), models.Index(fields=["enterprise", "period"])]

    def __str__(self) -> str:
        return f"{self.item.name} → {self.enterprise.name}"

    @property
    def amount_fen(self) -> int | None:
        return self.approved_fen if self.approved_fen is not None else self.engine_amount_fen


class ObjectionOutcome(models.TextChoices):
    UPHELD = "upheld", "异议成立"
    DISMISSED = "dismissed", "异议不成立"


class Objection(models.Model):
    """A written, real-name objection received during publicity."""

    candidate = models.ForeignKey(
        Candidate, verbose_name="兑现候选", on_delete=models.PROTECT, related_name="objections"
    )
    objector_name = models.CharField("异议人（实名）", max_length=100)
    objector_phone = EncryptedCharField("联系电话", max_length=20)
    reason = models.TextField("异议理由")
    received_at = models.DateTimeField("收到时间")
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField("处理结果", max_length=10, choices=ObjectionOutcome.choices, blank=True)
    decision_note = models.TextField("处理意见", blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="处理人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField("处理时间", null=True, blank=True)

    class Meta:
        verbose_name = "公示异议"
        verbose_name_plural = "公示异议"
        ordering = ["received_at"]

    def __str__(self) -> str:
        return f"{self.candidate} 异议（{self.received_at:%Y-%m-%d}）"


class Disbursement(models.Model):
    """拨付: an order against the item's pool, then its payment."""

    candidate = models.OneToOneField(
        Candidate, verbose_name="兑现候选", on_delete=models.PROTECT, related_name="disbursement"
    )
    amount_fen = models.BigIntegerField("金额（分）")
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="下达人", on_delete=models.PROTECT, related_name="+"
    )
    ordered_at = models.DateTimeField("下达时间")
    paid_at = models.DateTimeField("拨付时间", null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="拨付登记人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    payment_reference = models.CharField("支付流水号", max_length=64, blank=True)

    class Meta:
        verbose_name = "拨付单"
        verbose_name_plural = "拨付单"
        constraints = [models.CheckConstraint(condition=Q(amount_fen__gt=0), name="disbursement_positive")]

    def __str__(self) -> str:
        return f"{self.candidate} 拨付单"
