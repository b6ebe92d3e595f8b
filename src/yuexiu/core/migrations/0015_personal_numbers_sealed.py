"""Seal the existing plain 身份证号 and phone numbers of core's tables with SM4 and fill their digests
(GB/T 39786-2021). Batches of 500 rows, each in its own transaction: an interrupted run resumes."""

from __future__ import annotations

from django.db import migrations

from yuexiu.core import crypto


def seal_existing_values(apps, schema_editor):
    for model, fields in crypto.encrypted_models(apps):
        if model._meta.app_label == "core":
            crypto.reseal_model(model, fields, plaintext_allowed=True)


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("core", "0014_personal_numbers_encrypted_columns")]
    operations = [migrations.RunPython(seal_existing_values, migrations.RunPython.noop, elidable=True)]
