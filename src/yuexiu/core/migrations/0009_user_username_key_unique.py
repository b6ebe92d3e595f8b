"""Usernames compared without regard to letter width or case (step 3 of 3): the key is required and
unique, so two concurrent registrations of look-alike names cannot both succeed."""

import django.db.models
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0008_user_username_key_filled"),
    ]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="username_key",
            field=django.db.models.CharField(
                editable=False, max_length=300, unique=True, verbose_name="用户名（规范形式）"
            ),
        ),
    ]
