"""行政许可法 limits on the case clock: an extension approved once (第四十二条), the 送达 limit after an
approved licence (第四十四条). New columns default to no extension and no service limit, so existing
cases keep their deadlines."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0005_one_unconfirmed_open_case_per_person_and_item"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="service_deadline",
            field=models.DateTimeField(blank=True, db_index=True, null=True, verbose_name="送达期限"),
        ),
        migrations.AddField(
            model_name="case",
            name="service_limit_days",
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="送达时限（工作日）"),
        ),
        migrations.AddField(
            model_name="case",
            name="statutory_extension_days",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="法定时限延长（工作日）"),
        ),
        migrations.CreateModel(
            name="DeadlineExtension",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[("decision", "延长审批期限"), ("joint_handling", "延长联合办理期限")],
                        max_length=16,
                        verbose_name="类型",
                    ),
                ),
                ("days", models.PositiveSmallIntegerField(verbose_name="延长天数（工作日）")),
                ("legal_basis", models.CharField(max_length=300, verbose_name="依据")),
                ("reason", models.TextField(max_length=2000, verbose_name="延长理由")),
                (
                    "status",
                    models.CharField(
                        choices=[("requested", "待负责人批准"), ("approved", "已批准"), ("rejected", "未批准")],
                        default="requested",
                        max_length=12,
                        verbose_name="状态",
                    ),
                ),
                ("requested_at", models.DateTimeField(verbose_name="申请时间")),
                ("decided_at", models.DateTimeField(blank=True, null=True, verbose_name="审批时间")),
                ("decision_note", models.TextField(blank=True, max_length=2000, verbose_name="审批意见")),
                ("deadline_before", models.DateTimeField(blank=True, null=True, verbose_name="原法定期限")),
                ("deadline_after", models.DateTimeField(blank=True, null=True, verbose_name="延长后法定期限")),
                (
                    "bundle_case",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="extensions",
                        to="cases.bundlecase",
                        verbose_name="一件事办件",
                    ),
                ),
                (
                    "case",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="extensions",
                        to="cases.case",
                        verbose_name="办件",
                    ),
                ),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="审批人",
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="提出人",
                    ),
                ),
            ],
            options={
                "verbose_name": "延长审批期限",
                "verbose_name_plural": "延长审批期限",
                "ordering": ["requested_at", "id"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("bundle_case__isnull", True), ("case__isnull", False)),
                            models.Q(("bundle_case__isnull", False), ("case__isnull", True)),
                            _connector="OR",
                        ),
                        name="extension_of_a_case_or_a_bundle_case",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("case__isnull", False), ("status__in", ("requested", "approved"))),
                        fields=("case",),
                        name="one_live_extension_per_case",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("bundle_case__isnull", False), ("status__in", ("requested", "approved"))),
                        fields=("bundle_case",),
                        name="one_live_extension_per_bundle_case",
                    ),
                ],
            },
        ),
    ]
