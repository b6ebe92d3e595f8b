"""Seal the existing plain application forms (which may hold 身份证号, phone numbers and bank accounts
typed into them) with SM4 (GB/T 39786-2021), in batches of 500 rows, each in its own transaction."""

from __future__ import annotations

from django.db import migrations

from yuexiu.core import crypto


def seal_existing_values(apps, schema_editor):
    for model, fields in crypto.encrypted_models(apps):
        if model._meta.app_label == "cases":
            crypto.reseal_model(model, fields, plaintext_allowed=True)


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("cases", "0009_application_forms_encrypted_column")]
    operations = [migrations.RunPython(seal_existing_values, migrations.RunPython.noop, elidable=True)]
