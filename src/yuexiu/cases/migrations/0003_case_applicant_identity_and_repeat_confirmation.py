"""Who applies, as one key across accounts and channels, and whether a repeat application was
confirmed (issue 11: Back and resubmit made a silent duplicate). Schema only; 0004 fills the key."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0002_case_deadline_is_provisional"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="applicant_identity",
            field=models.CharField(blank=True, max_length=40, verbose_name="申请人身份标识"),
        ),
        migrations.AddField(
            model_name="case",
            name="repeat_confirmed",
            field=models.BooleanField(default=False, verbose_name="已确认重复申请"),
        ),
        migrations.AlterField(
            model_name="case",
            name="decision_reason",
            field=models.TextField(blank=True, max_length=2000, verbose_name="决定理由"),
        ),
    ]
