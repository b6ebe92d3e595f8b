"""Seal the existing plain applicants' 身份证号 and phone numbers with SM4 (GB/T 39786-2021), and
replace the plain 身份证号 in ``applicant_identity`` ("id:<number>") by its keyed digest
("id:<HMAC-SM3>"). Batches of 500 rows, each in its own transaction: an interrupted run resumes."""

from __future__ import annotations

from django.db import migrations, transaction

from yuexiu.core import crypto

BATCH = 500


def seal_existing_values(apps, schema_editor):
    for model, fields in crypto.encrypted_models(apps):
        if model._meta.app_label == "cases":
            crypto.reseal_model(model, fields, plaintext_allowed=True)
    Case = apps.get_model("cases", "Case")
    last = 0
    while True:
        with transaction.atomic():
            # a digest is 64 characters; "id:" plus an 18-character number is a plain one
            batch = list(
                Case.objects.filter(pk__gt=last, applicant_identity__startswith="id:")
                .exclude(applicant_identity__regex=r"^id:[0-9a-f]{64}$")
                .order_by("pk")
                .values_list("pk", "applicant_identity")[:BATCH]
            )
            for pk, identity in batch:
                Case.objects.filter(pk=pk).update(applicant_identity=f"id:{crypto.digest(identity[3:])}")
        if not batch:
            break
        last = batch[-1][0]


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("cases", "0007_personal_numbers_encrypted_columns"), ("core", "0015_personal_numbers_sealed")]
    operations = [migrations.RunPython(seal_existing_values, migrations.RunPython.noop, elidable=True)]
