"""Seal the existing plain bank accounts and objectors' phone numbers with SM4 (GB/T 39786-2021), in
batches of 500 rows, each in its own transaction: an interrupted run resumes."""

from __future__ import annotations

from django.db import migrations

from yuexiu.core import crypto


def seal_existing_values(apps, schema_editor):
    for model, fields in crypto.encrypted_models(apps):
        if model._meta.app_label == "policies":
            crypto.reseal_model(model, fields, plaintext_allowed=True)


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("policies", "0007_personal_numbers_encrypted_columns"), ("core", "0015_personal_numbers_sealed")]
    operations = [migrations.RunPython(seal_existing_values, migrations.RunPython.noop, elidable=True)]
