"""The rater's request for a review of how their 差评 was handled (申诉复核), decided by a supervisor."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ratings", "0002_outbox_moves_to_core"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="HandlingReview",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "channel",
                    models.CharField(
                        choices=[("portal", "网上办事大厅"), ("link", "评价链接")],
                        max_length=10,
                        verbose_name="申请渠道",
                    ),
                ),
                ("reason", models.TextField(verbose_name="复核理由")),
                ("requested_at", models.DateTimeField(verbose_name="申请时间")),
                ("due_at", models.DateTimeField(blank=True, db_index=True, null=True, verbose_name="复核期限")),
                (
                    "outcome",
                    models.CharField(
                        blank=True,
                        choices=[("maintained", "维持原处理"), ("redo", "重新整改")],
                        max_length=12,
                        verbose_name="复核结论",
                    ),
                ),
                ("decision", models.TextField(blank=True, verbose_name="复核意见")),
                ("decided_at", models.DateTimeField(blank=True, null=True, verbose_name="复核时间")),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="复核人",
                    ),
                ),
                (
                    "rectification",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reviews",
                        to="ratings.rectification",
                        verbose_name="差评整改",
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="申请人",
                    ),
                ),
            ],
            options={
                "verbose_name": "差评处理复核",
                "verbose_name_plural": "差评处理复核",
                "ordering": ["requested_at", "id"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("outcome", "")),
                        fields=("rectification",),
                        name="one_open_review_per_rectification",
                        violation_error_message="该差评已有待复核的申请。",
                    )
                ],
            },
        ),
    ]
