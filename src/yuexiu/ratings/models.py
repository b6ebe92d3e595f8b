"""好差评: ratings of cases (一事一评), with the versioned question set each was given under."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from yuexiu.cases.models import Case
from yuexiu.core.text_limits import TextLimit


class Level(models.IntegerChoices):
    """Five levels (国办发〔2019〕51号 and the national technical scheme, domain/rules.md §1.1)."""

    VERY_DISSATISFIED = 1, "非常不满意"
    DISSATISFIED = 2, "不满意"
    BASICALLY_SATISFIED = 3, "基本满意"
    SATISFIED = 4, "满意"
    VERY_SATISFIED = 5, "非常满意"


# 差评 = the two lowest levels (national technical scheme [H], domain/rules.md §1.1).
NEGATIVE_LEVELS = (Level.VERY_DISSATISFIED, Level.DISSATISFIED)


class RatingChannel(models.TextChoices):
    PORTAL = "portal", "网上办事大厅"
    QR = "qr", "办结通知书二维码"
    WINDOW = "window", "窗口评价器"
    KIOSK = "kiosk", "自助终端"
    SMS = "sms", "短信链接"
    HOTLINE = "hotline", "12345 热线"
    DEFAULT = "default", "超期默认评价"


class QuestionSet(models.Model):
    """A versioned set of indicator questions (the scheme says question sets are version-managed)."""

    kind = models.CharField("类型", max_length=10, choices=[("online", "网上服务"), ("offline", "现场服务")])
    version = models.PositiveIntegerField("版本")
    questions = models.JSONField("二级指标")
    effective_from = models.DateField("启用日期")
    source = models.CharField("依据", max_length=300)

    class Meta:
        verbose_name = "评价指标集"
        verbose_name_plural = "评价指标集"
        constraints = [models.UniqueConstraint(fields=["kind", "version"], name="unique_question_set_version")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} 第{self.version}版"


class Visit(models.Model):
    """One on-site service at a window (一次一评 rates each visit). The officer records it when the
    service ends; the window's tablet then offers it for rating, and the ticket carries its code for
    the self-service kiosk."""

    code = models.CharField("评价码", max_length=8, unique=True)
    organisation = models.ForeignKey(
        "core.Organisation", verbose_name="窗口单位", on_delete=models.PROTECT, related_name="+"
    )
    window_name = models.CharField("窗口", max_length=TextLimit.SHORT)
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="服务人员", on_delete=models.PROTECT, related_name="+"
    )
    served_at = models.DateTimeField("服务时间", db_index=True)

    class Meta:
        verbose_name = "现场服务"
        verbose_name_plural = "现场服务"
        ordering = ["-served_at", "-id"]

    def __str__(self) -> str:
        return f"{self.window_name} {self.code}"


class Rating(models.Model):
    """One rating of one case (一事一评) or of one on-site visit (一次一评): exactly one of the two, each
    rated once. Never edited after it is given; an upheld appeal only marks it excluded, with the reason."""

    case = models.OneToOneField(
        Case, verbose_name="办件", null=True, blank=True, on_delete=models.PROTECT, related_name="rating"
    )
    visit = models.OneToOneField(
        Visit, verbose_name="现场服务", null=True, blank=True, on_delete=models.PROTECT, related_name="rating"
    )
    level = models.PositiveSmallIntegerField("评价等级", choices=Level.choices)
    answers = models.JSONField("分项评价", default=dict)
    question_set = models.ForeignKey(QuestionSet, verbose_name="指标集版本", on_delete=models.PROTECT, related_name="+")
    channel = models.CharField("渠道", max_length=10, choices=RatingChannel.choices)
    rater = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="评价人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人员",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    is_real_name = models.BooleanField("实名", default=True)
    is_default = models.BooleanField("默认评价", default=False)
    comment = models.CharField("意见", max_length=TextLimit.COMMENT, blank=True)
    given_at = models.DateTimeField("评价时间", db_index=True)
    organisation_id_snapshot = models.PositiveIntegerField("被评价单位", db_index=True)
    window_id_snapshot = models.PositiveIntegerField("受理窗口单位", null=True, blank=True)
    officer_id_snapshot = models.PositiveIntegerField("责任人员", null=True, blank=True)
    excluded = models.BooleanField("不计入统计", default=False)
    excluded_reason = models.CharField("不计入理由", max_length=500, blank=True)

    class Meta:
        verbose_name = "服务评价"
        verbose_name_plural = "服务评价"
        ordering = ["-given_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(case__isnull=False, visit__isnull=True)
                | models.Q(case__isnull=True, visit__isnull=False),
                name="rating_of_a_case_or_a_visit",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case.number} {self.get_level_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """A rating cannot be changed by anyone; only its exclusion (an upheld appeal) may be set."""
        if self.pk is not None:
            fields = set(kwargs.get("update_fields") or ())
            if not fields or not fields <= {"excluded", "excluded_reason"}:
                raise ValueError("ratings are never edited; only an upheld appeal excludes one")
        super().save(*args, **kwargs)

    @property
    def is_negative(self) -> bool:
        return self.level in NEGATIVE_LEVELS

    @property
    def is_anonymous(self) -> bool:
        """Given without a name (an on-site rating at the window tablet or the kiosk). Guangdong ratings
        are real-name (实名制, domain/rules.md §1.3): anonymous ones are counted apart from the real-name
        figures, and their 差评 have nobody to answer or call back. A default rating is not anonymous: it
        stands for the case's applicant."""
        return not self.is_real_name and not self.is_default


class Step(models.TextChoices):
    """The 差评 loop (国办发〔2019〕51号: 调查核实、督促整改、反馈; 回访)."""

    VERIFY = "verify", "核实"
    CLASSIFY = "classify", "分类"
    RECTIFY = "rectify", "整改"
    REPLY = "reply", "答复"
    CALLBACK = "callback", "回访"
    CLOSED = "closed", "办结"


STEP_ORDER = [Step.VERIFY, Step.CLASSIFY, Step.RECTIFY, Step.REPLY, Step.CALLBACK, Step.CLOSED]


class Classification(models.TextChoices):
    IMMEDIATE = "immediate", "立行立改"
    SCHEDULED = "scheduled", "限期整改"
    EXPLANATION = "explanation", "解释说明"


class Rectification(models.Model):
    """The rectification order a 差评 opens for the responsible unit (谁办理、谁负责)."""

    rating = models.OneToOneField(Rating, verbose_name="差评", on_delete=models.PROTECT, related_name="rectification")
    organisation = models.ForeignKey(
        "core.Organisation", verbose_name="责任单位", on_delete=models.PROTECT, related_name="+"
    )
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="责任人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    step = models.CharField("当前环节", max_length=10, choices=Step.choices, default=Step.VERIFY)
    step_due_at = models.DateTimeField("本环节期限", null=True, blank=True, db_index=True)
    classification = models.CharField("处置方式", max_length=12, choices=Classification.choices, blank=True)
    notes = models.JSONField("各环节记录", default=dict)
    callback_level = models.PositiveSmallIntegerField("回访满意度", choices=Level.choices, null=True, blank=True)
    opened_at = models.DateTimeField("生成时间")
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    on_time = models.BooleanField("按期整改", default=True)
    escalation = models.OneToOneField(
        "supervision.SupervisionOrder",
        verbose_name="逾期督办",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    version = models.PositiveIntegerField("版本", default=1)

    class Meta:
        verbose_name = "差评整改"
        verbose_name_plural = "差评整改"
        ordering = ["step_due_at", "id"]

    def __str__(self) -> str:
        return f"{self.rating.case.number} {self.get_step_display()}"


class AppealKind(models.TextChoices):
    MISTAKEN = "mistaken", "误评"
    MALICIOUS = "malicious", "恶意差评"


class Appeal(models.Model):
    """A unit's appeal against a rating; the bureau decides. Upheld: the rating leaves the rates."""

    rating = models.OneToOneField(Rating, verbose_name="评价", on_delete=models.PROTECT, related_name="appeal")
    kind = models.CharField("申诉类型", max_length=10, choices=AppealKind.choices)
    reason = models.TextField("申诉理由")
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申诉人", on_delete=models.PROTECT, related_name="+"
    )
    filed_at = models.DateTimeField("申诉时间")
    upheld = models.BooleanField("成立", null=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="复核人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decision = models.TextField("复核意见", blank=True)
    decided_at = models.DateTimeField("复核时间", null=True, blank=True)

    class Meta:
        verbose_name = "评价申诉"
        verbose_name_plural = "评价申诉"

    def __str__(self) -> str:
        return f"{self.rating} {self.get_kind_display()}"


class ReviewChannel(models.TextChoices):
    PORTAL = "portal", "网上办事大厅"
    LINK = "link", "评价链接"


class ReviewOutcome(models.TextChoices):
    MAINTAINED = "maintained", "维持原处理"
    REDO = "redo", "重新整改"


class HandlingReview(models.Model):
    """The rater's request for a review of how their 差评 was handled (申诉复核, 国办发〔2019〕51号:
    raters can appeal; domain/rules.md §1.1), made after the unit's reply, with a reason. A supervisor
    of the bureau decides: the handling is maintained (维持), or the unit rectifies again (重新整改). This
    is the rater's own recourse, apart from the rated unit's ``Appeal`` against the rating itself.

    One review is open per rectification at a time (a database constraint); after a 重新整改 and a new
    reply the rater may ask again, after a 维持 not."""

    rectification = models.ForeignKey(
        Rectification, verbose_name="差评整改", on_delete=models.PROTECT, related_name="reviews"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申请人", on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField("申请渠道", max_length=10, choices=ReviewChannel.choices)
    reason = models.TextField("复核理由")
    requested_at = models.DateTimeField("申请时间")
    due_at = models.DateTimeField("复核期限", null=True, blank=True, db_index=True)
    outcome = models.CharField("复核结论", max_length=12, choices=ReviewOutcome.choices, blank=True)
    decision = models.TextField("复核意见", blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="复核人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField("复核时间", null=True, blank=True)

    class Meta:
        verbose_name = "差评处理复核"
        verbose_name_plural = "差评处理复核"
        ordering = ["requested_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rectification"],
                condition=models.Q(outcome=""),
                name="one_open_review_per_rectification",
                violation_error_message="该差评已有待复核的申请。",
            )
        ]

    def __str__(self) -> str:
        return f"{self.rectification} 复核{self.get_outcome_display() or '（待复核）'}"


class CheckOutcome(models.TextChoices):
    CONFIRMED = "confirmed", "属实"
    INDUCED = "induced", "诱导评价"
    FORGED = "forged", "代评、伪造"
    UNREACHABLE = "unreachable", "联系不上"


class SelfCheck(models.Model):
    """自查: a sampled good rating verified by a call to the rater, to catch induced or forged ratings."""

    rating = models.OneToOneField(Rating, verbose_name="评价", on_delete=models.PROTECT, related_name="self_check")
    sampled_at = models.DateTimeField("抽取时间")
    sampled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="抽取人", on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField("核查结果", max_length=12, choices=CheckOutcome.choices, blank=True)
    note = models.CharField("说明", max_length=TextLimit.COMMENT, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="核查人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    checked_at = models.DateTimeField("核查时间", null=True, blank=True)

    class Meta:
        verbose_name = "评价自查"
        verbose_name_plural = "评价自查"
        ordering = ["-sampled_at", "id"]

    def __str__(self) -> str:
        return f"{self.rating} {self.get_outcome_display() or '待核查'}"


class DeviceKind(models.TextChoices):
    TABLET = "tablet", "窗口评价器"
    KIOSK = "kiosk", "自助终端"


class RatingDevice(models.Model):
    """A window tablet or self-service kiosk bound by staff (issue 13: anonymous on-site ratings only
    from a device the unit put there). Binding gives the device's browser a random token in a
    long-lived cookie; only its SHA-256 is kept here, so the table cannot be replayed. A tablet
    offers the visits of its own window; a kiosk takes the codes of any visit. Revoked devices are
    kept (who bound and revoked it, when) and refused."""

    kind = models.CharField("设备类型", max_length=10, choices=DeviceKind.choices)
    organisation = models.ForeignKey(
        "core.Organisation", verbose_name="所属单位", on_delete=models.PROTECT, related_name="+"
    )
    window_name = models.CharField("窗口", max_length=TextLimit.SHORT, blank=True)
    token_hash = models.CharField("令牌摘要", max_length=64, unique=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="绑定人", on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField("绑定时间")
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="解绑人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoked_at = models.DateTimeField("解绑时间", null=True, blank=True)

    class Meta:
        verbose_name = "评价设备"
        verbose_name_plural = "评价设备"
        ordering = ["-issued_at", "-id"]

    def __str__(self) -> str:
        where = f" {self.window_name}" if self.window_name else ""
        return f"{self.get_kind_display()}{where}（#{self.pk}）"
