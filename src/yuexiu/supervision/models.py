"""Embedded supervision (监督一点通): supervised items, alerts fired by rules over cases, supervision
orders (督办) with their loop, and integrity supervisors' observations."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from yuexiu.cases.models import Case
from yuexiu.catalog.models import ServiceItem
from yuexiu.core.models import Organisation


class SupervisedItem(models.Model):
    """An item whose cases the rules watch; supervisors choose them (the 2024 report names 55)."""

    item = models.OneToOneField(ServiceItem, verbose_name="事项", on_delete=models.CASCADE, related_name="supervision")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="设置人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    added_at = models.DateTimeField("设置时间", auto_now_add=True)

    class Meta:
        verbose_name = "重点监督事项"
        verbose_name_plural = "重点监督事项"

    def __str__(self) -> str:
        return self.item.name


class AlertLevel(models.TextChoices):
    WARNING = "warning", "预警（黄牌）"
    RED = "red", "红牌"


class Alert(models.Model):
    """One rule firing on one case: at most once (unique constraint), however often the sweep runs."""

    case = models.ForeignKey(Case, verbose_name="办件", on_delete=models.CASCADE, related_name="alerts")
    rule = models.CharField("规则", max_length=40)
    level = models.CharField("级别", max_length=10, choices=AlertLevel.choices)
    organisation = models.ForeignKey(Organisation, verbose_name="责任单位", on_delete=models.PROTECT, related_name="+")
    message = models.CharField("内容", max_length=500)
    fired_at = models.DateTimeField("触发时间", db_index=True)

    class Meta:
        verbose_name = "监督预警"
        verbose_name_plural = "监督预警"
        ordering = ["-fired_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["case", "rule"], name="one_alert_per_case_and_rule")]

    def __str__(self) -> str:
        return f"{self.case.number} {self.rule}"


class OrderStatus(models.TextChoices):
    ISSUED = "issued", "待回复"
    RESPONDED = "responded", "待核实"
    CLOSED = "closed", "已办结"


class SupervisionOrder(models.Model):
    """督办: opened by a red alert or an integrity supervisor's observation; the department responds,
    a supervisor verifies (closing it, or sending it back with a new deadline)."""

    number = models.CharField("督办编号", max_length=32, unique=True)
    alert = models.OneToOneField(
        Alert, verbose_name="来源预警", null=True, blank=True, on_delete=models.PROTECT, related_name="order"
    )
    observation = models.OneToOneField(
        "Observation",
        verbose_name="来源监督意见",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="order",
    )
    case = models.ForeignKey(
        Case, verbose_name="办件", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(Organisation, verbose_name="督办单位", on_delete=models.PROTECT, related_name="+")
    subject = models.CharField("督办事项", max_length=500)
    status = models.CharField("状态", max_length=12, choices=OrderStatus.choices, default=OrderStatus.ISSUED)
    issued_at = models.DateTimeField("下发时间")
    due_at = models.DateTimeField("回复期限")
    response = models.TextField("整改回复", blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="回复人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    responded_at = models.DateTimeField("回复时间", null=True, blank=True)
    verification = models.TextField("核实意见", blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="核实人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    version = models.PositiveIntegerField("版本", default=1)

    class Meta:
        verbose_name = "督办单"
        verbose_name_plural = "督办单"
        ordering = ["-issued_at", "-id"]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"


class Observation(models.Model):
    """廉政监督员's observation of a case or a department; it opens a supervision order."""

    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="监督员", on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name="被监督单位", on_delete=models.PROTECT, related_name="+"
    )
    case = models.ForeignKey(
        Case, verbose_name="办件", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    content = models.TextField("监督意见")
    filed_at = models.DateTimeField("提出时间")

    class Meta:
        verbose_name = "廉政监督意见"
        verbose_name_plural = "廉政监督意见"
        ordering = ["-filed_at", "-id"]

    def __str__(self) -> str:
        return self.content[:30]
