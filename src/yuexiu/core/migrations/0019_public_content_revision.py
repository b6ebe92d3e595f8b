from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("core", "0018_audit_hash_chain_append_only")]

    operations = [
        migrations.CreateModel(
            name="PublicRevision",
            fields=[
                ("name", models.CharField(max_length=32, primary_key=True, serialize=False, verbose_name="名称")),
                ("token", models.CharField(max_length=32, verbose_name="版本标识")),
            ],
            options={"verbose_name": "公开内容版本", "verbose_name_plural": "公开内容版本"},
        ),
    ]
