"""Service catalogue: service items (政务服务事项), versioned guides (办事指南), bundles (一件事),
citywide handling (全市通办), the shared-evidence table and guide-check findings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from yuexiu.core.models import Organisation
from yuexiu.core.text_limits import TextLimit


class ItemType(models.TextChoices):
    """The ten kinds of 行政权力事项 and 公共服务 (domain/rules.md §4.1)."""

    LICENSING = "licensing", "行政许可"
    PENALTY = "penalty", "行政处罚"
    ENFORCEMENT = "enforcement", "行政强制"
    LEVY = "levy", "行政征收"
    PAYMENT = "payment", "行政给付"
    INSPECTION = "inspection", "行政检查"
    CONFIRMATION = "confirmation", "行政确认"
    REWARD = "reward", "行政奖励"
    ADJUDICATION = "adjudication", "行政裁决"
    OTHER_POWER = "other_power", "其他行政权力"
    PUBLIC_SERVICE = "public_service", "公共服务"


# Two-letter type codes of the basic code (DB52/T 1264-2018 convention, domain/rules.md §4.2).
ITEM_TYPE_CODES: dict[str, str] = {
    ItemType.LICENSING: "XK",
    ItemType.PENALTY: "CF",
    ItemType.ENFORCEMENT: "QZ",
    ItemType.LEVY: "ZS",
    ItemType.PAYMENT: "JF",
    ItemType.INSPECTION: "JC",
    ItemType.CONFIRMATION: "QR",
    ItemType.REWARD: "JL",
    ItemType.ADJUDICATION: "CJ",
    ItemType.OTHER_POWER: "QT",
    ItemType.PUBLIC_SERVICE: "GG",
}


class ItemLevel(models.TextChoices):
    MAIN = "main", "主项"
    SUB = "sub", "子项"
    VARIANT = "variant", "业务办理项"


class ExerciseLevel(models.TextChoices):
    NATIONAL = "national", "国家级"
    PROVINCIAL = "provincial", "省级"
    MUNICIPAL = "municipal", "市级"
    COUNTY = "county", "县级"
    TOWNSHIP = "township", "乡（镇、街道）级"
    COMMUNITY = "community", "村（社区）级"
    TIERED = "tiered", "分级管理"


class EventKind(models.TextChoices):
    LIFE = "life", "个人生活事件"
    BUSINESS = "business", "企业经营事件"


class Confidence(models.TextChoices):
    HIGH = "H", "H（官方原文）"
    MEDIUM = "M", "M（二手来源）"
    LOW = "L", "L（推断或回忆）"
    UNKNOWN = "U", "U（未查到）"


class ServiceItem(models.Model):
    """One implemented service item: the stable identity that guide versions and cases refer to."""

    slug = models.SlugField("网址标识", max_length=90, unique=True)
    base_code = models.CharField("基本编码", max_length=32, db_index=True)
    implementation_code = models.CharField("实施编码", max_length=64, unique=True)
    name = models.CharField("事项名称", max_length=200)
    search_terms = models.CharField(
        "常用叫法", max_length=300, blank=True, help_text="群众常用的简称或俗称，空格分隔，用于搜索，如：低保 低保金"
    )
    item_type = models.CharField("事项类型", max_length=20, choices=ItemType.choices)
    item_level = models.CharField("事项层级", max_length=10, choices=ItemLevel.choices, default=ItemLevel.MAIN)
    parent = models.ForeignKey(
        "self", verbose_name="上级事项", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    exercise_level = models.CharField("行使层级", max_length=16, choices=ExerciseLevel.choices)
    organisation = models.ForeignKey(
        Organisation, verbose_name="实施主体", on_delete=models.PROTECT, related_name="service_items"
    )
    intake_organisations = models.ManyToManyField(
        Organisation, verbose_name="受理单位（街道）", blank=True, related_name="intake_items"
    )
    current_version = models.OneToOneField(
        "GuideVersion", verbose_name="现行版本", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source_url = models.CharField("数据来源", max_length=500, blank=True)
    source_note = models.CharField("来源说明", max_length=500, blank=True)
    confidence = models.CharField("可信度", max_length=1, choices=Confidence.choices, default=Confidence.UNKNOWN)
    seed_key = models.CharField("种子数据标识", max_length=100, blank=True, db_index=True)
    is_active = models.BooleanField("在用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "政务服务事项"
        verbose_name_plural = "政务服务事项"
        ordering = ["organisation__sort_order", "base_code", "implementation_code"]

    def __str__(self) -> str:
        return self.name


class GuideStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "待审核"
    RETURNED = "returned", "已退回"
    PUBLISHED = "published", "现行"
    SUPERSEDED = "superseded", "历史版本"


OPEN_STATUSES = (GuideStatus.DRAFT, GuideStatus.SUBMITTED, GuideStatus.RETURNED)


class GuideVersion(models.Model):
    """One version of an item's 办事指南. Published versions are never edited again: a change is a new
    version, and a case keeps the version it was submitted under."""

    item = models.ForeignKey(ServiceItem, verbose_name="事项", on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField("版本号")
    status = models.CharField("状态", max_length=12, choices=GuideStatus.choices, default=GuideStatus.DRAFT)
    content = models.JSONField("指南要素", default=dict)
    change_summary = models.CharField("修改说明", max_length=TextLimit.FIELD, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="起草人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("起草时间", auto_now_add=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    return_reason = models.CharField("退回理由", max_length=TextLimit.FIELD, blank=True)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)

    class Meta:
        verbose_name = "办事指南版本"
        verbose_name_plural = "办事指南版本"
        ordering = ["item_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="unique_guide_version_number"),
            models.UniqueConstraint(
                fields=["item"], condition=Q(status__in=OPEN_STATUSES), name="one_open_guide_draft_per_item"
            ),
            models.UniqueConstraint(
                fields=["item"], condition=Q(status="published"), name="one_published_guide_per_item"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item.name} 第{self.number}版"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """A version once submitted or published keeps its content for good: cases cite it."""
        update_fields = kwargs.get("update_fields")
        if self.pk is not None and (update_fields is None or "content" in update_fields):
            stored = GuideVersion.objects.filter(pk=self.pk).values_list("status", "content").first()
            if stored and stored[0] not in (GuideStatus.DRAFT, GuideStatus.RETURNED) and stored[1] != self.content:
                raise ValueError(f"GuideVersion {self.pk} is {stored[0]}; its content cannot change")
        super().save(*args, **kwargs)

    @property
    def is_editable(self) -> bool:
        return self.status in (GuideStatus.DRAFT, GuideStatus.RETURNED)


class CitywideMode(models.TextChoices):
    """全市通办 modes (国办发〔2020〕35号, domain/rules.md §11)."""

    FULLY_ONLINE = "fully_online", "全程网办"
    PROXY_INTAKE = "proxy_intake", "异地代收代办"
    JOINT_HANDLING = "joint_handling", "多地联办"


class CitywideHandling(models.Model):
    item = models.ForeignKey(ServiceItem, verbose_name="事项", on_delete=models.CASCADE, related_name="citywide")
    mode = models.CharField("通办模式", max_length=16, choices=CitywideMode.choices)
    areas = models.JSONField("通办范围", default=list)
    source_url = models.CharField("数据来源", max_length=500, blank=True)
    confidence = models.CharField("可信度", max_length=1, choices=Confidence.choices, default=Confidence.UNKNOWN)

    class Meta:
        verbose_name = "全市通办"
        verbose_name_plural = "全市通办"
        constraints = [models.UniqueConstraint(fields=["item", "mode"], name="unique_citywide_mode_per_item")]

    def __str__(self) -> str:
        return f"{self.item.name}：{self.get_mode_display()}"


class ServiceBundle(models.Model):
    """A 高效办成一件事 bundle (CPSV-AP LifeEvent / BusinessEvent)."""

    slug = models.SlugField("网址标识", max_length=90, unique=True)
    seed_key = models.CharField("种子数据标识", max_length=100, blank=True, db_index=True)
    name = models.CharField("名称", max_length=200)
    event_kind = models.CharField("事件类型", max_length=10, choices=EventKind.choices)
    lead_organisation = models.ForeignKey(
        Organisation, verbose_name="牵头部门", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lead_department_note = models.CharField("牵头部门（来源原文）", max_length=300, blank=True)
    batch = models.CharField("批次", max_length=20, blank=True)
    description = models.TextField("说明", blank=True)
    eligibility = models.JSONField("适用条件", default=list)
    promised_limit_days = models.PositiveIntegerField("整体承诺时限（工作日）", null=True, blank=True)
    promised_limit_note = models.CharField("时限说明", max_length=300, blank=True)
    promised_limit_is_fastest = models.BooleanField(
        "时限为“最快”时间",
        default=False,
        help_text="来源写“最快 N 个工作日”：是最快可办结的时间，不是每件都能做到的上限。",
    )
    # Steps the bundle's promised limit does not count (新生儿出生一件事: 制卡 and 邮寄), as
    # [{"kind": "card_making" | "postage", "label": "制卡", "items": [item names]}]; ``items`` empty
    # means every item (a result sent by post). See cases.bundle_clock for how the clock leaves them out.
    limit_exclusions = models.JSONField("不计入整体时限的环节", default=list, blank=True)
    # A bundle whose flow changes with the law on a date (信用修复一件事: 58号令 to 2026-03-31, 36号令 from
    # 2026-04-01) takes its steps and promised limit from this dated rule (core.rules) on each date;
    # ``promised_limit_days`` is then unused.
    flow_rule = models.CharField("按日期适用的办理流程（规则参数）", max_length=100, blank=True)
    materials_note = models.CharField("材料精简说明", max_length=500, blank=True)
    region = models.CharField("做法来源地区", max_length=100, blank=True)
    source_url = models.CharField("数据来源", max_length=500, blank=True)
    confidence = models.CharField("可信度", max_length=1, choices=Confidence.choices, default=Confidence.UNKNOWN)
    name_confidence = models.CharField(
        "名称可信度", max_length=1, choices=Confidence.choices, default=Confidence.UNKNOWN
    )
    notes = models.JSONField("其他来源", default=list)
    items = models.ManyToManyField(ServiceItem, through="BundleItem", related_name="bundles")
    is_active = models.BooleanField("在用", default=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "一件事"
        verbose_name_plural = "一件事"
        ordering = ["event_kind", "id"]

    def __str__(self) -> str:
        return self.name


class BundleItem(models.Model):
    bundle = models.ForeignKey(ServiceBundle, verbose_name="一件事", on_delete=models.CASCADE)
    item = models.ForeignKey(ServiceItem, verbose_name="事项", on_delete=models.PROTECT)
    position = models.PositiveIntegerField("顺序", default=0)
    department_note = models.CharField("部门（来源原文）", max_length=200, blank=True)
    # What the item asks within this bundle (fields of the merged form, materials), when the bundle
    # asks more or other than the item's own guide: 社会保障卡申领 asks a newborn's name only in
    # 新生儿出生一件事. Same shapes as GuideContent.form_fields and .materials.
    form_fields = models.JSONField("本事项在一件事中的表单字段", default=list, blank=True)
    materials = models.JSONField("本事项在一件事中的材料", default=list, blank=True)

    class Meta:
        verbose_name = "一件事所含事项"
        verbose_name_plural = "一件事所含事项"
        ordering = ["bundle_id", "position"]
        constraints = [models.UniqueConstraint(fields=["bundle", "item"], name="unique_item_per_bundle")]

    def __str__(self) -> str:
        return f"{self.bundle.name}：{self.item.name}"


class EvidenceKind(models.TextChoices):
    E_LICENCE = "e_licence", "电子证照"
    SHARED_DATA = "shared_data", "共享数据"


class SharedEvidence(models.Model):
    """A document that shared data or an electronic licence can stand in for, from a dated source."""

    name = models.CharField("材料名称", max_length=100)
    aliases = models.JSONField("别名", default=list)
    kind = models.CharField("替代方式", max_length=12, choices=EvidenceKind.choices)
    issuer = models.CharField("数源部门", max_length=100, blank=True)
    effective_from = models.DateField("生效日期")
    source_document = models.CharField("依据", max_length=300)
    source_url = models.CharField("来源网址", max_length=500, blank=True)
    confidence = models.CharField("可信度", max_length=1, choices=Confidence.choices, default=Confidence.UNKNOWN)

    class Meta:
        verbose_name = "可免提交材料（电子证照与共享数据）"
        verbose_name_plural = "可免提交材料（电子证照与共享数据）"
        constraints = [models.UniqueConstraint(fields=["name", "effective_from"], name="unique_evidence_per_date")]

    def __str__(self) -> str:
        return self.name


class GuideCheckRun(models.Model):
    started_at = models.DateTimeField("开始时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发起人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    item_count = models.PositiveIntegerField("检查事项数", default=0)
    finding_count = models.PositiveIntegerField("问题数", default=0)

    class Meta:
        verbose_name = "指南检查"
        verbose_name_plural = "指南检查"
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"指南检查 {self.started_at:%Y-%m-%d %H:%M}"


class GuideFinding(models.Model):
    run = models.ForeignKey(GuideCheckRun, verbose_name="检查", on_delete=models.CASCADE, related_name="findings")
    item = models.ForeignKey(ServiceItem, verbose_name="事项", on_delete=models.CASCADE, related_name="findings")
    version = models.ForeignKey(GuideVersion, verbose_name="版本", on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey(Organisation, verbose_name="实施主体", on_delete=models.PROTECT, related_name="+")
    rule = models.CharField("规则", max_length=64)
    element = models.CharField("要素", max_length=64)
    message = models.CharField("问题描述", max_length=500)

    class Meta:
        verbose_name = "指南问题"
        verbose_name_plural = "指南问题"
        ordering = ["organisation__sort_order", "item_id", "rule"]
        indexes = [models.Index(fields=["run", "organisation"])]

    def __str__(self) -> str:
        return f"{self.item.name}：{self.message}"

    def get_rule_label(self) -> str:
        from yuexiu.catalog.checks import RULE_LABELS

        return RULE_LABELS.get(self.rule, self.rule)
