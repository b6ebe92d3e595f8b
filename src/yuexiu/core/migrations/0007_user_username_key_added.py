"""Usernames compared without regard to letter width or case (step 1 of 3): the column, empty."""

import django.db.models
from django.db import migrations

import yuexiu.core.models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0006_holiday_year_without_weekend_fallback"),
    ]

    operations = [
        migrations.AlterModelManagers(
            name="user",
            managers=[
                ("objects", yuexiu.core.models.AccountManager()),
            ],
        ),
        migrations.AddField(
            model_name="user",
            name="username_key",
            field=django.db.models.CharField(
                editable=False, max_length=300, null=True, verbose_name="用户名（规范形式）"
            ),
        ),
    ]
