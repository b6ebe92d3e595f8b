"""Bundles seeded before the promise terms existed get them from their source records, as a fresh seed
does (one-thing-2024.yaml): 新生儿出生一件事's 5 working days are "最快" and do not count 制卡 and 邮寄;
信用修复一件事 follows the dated rule catalog.credit_repair_bundle_flow (58号令 to 2026-03-31, 36号令
from 2026-04-01) instead of an undated 10 days. Only rows still as seeded are changed."""

from __future__ import annotations

from django.db import migrations

NEWBORN_EXCLUSIONS = [
    {"kind": "card_making", "label": "制卡", "items": ["社会保障卡申领"]},
    {"kind": "postage", "label": "邮寄", "items": []},
]


def add_terms(apps, schema_editor):
    ServiceBundle = apps.get_model("catalog", "ServiceBundle")
    ServiceBundle.objects.filter(
        seed_key="newborn-birth", promised_limit_days=5, promised_limit_is_fastest=False
    ).update(promised_limit_is_fastest=True, limit_exclusions=NEWBORN_EXCLUSIONS)
    ServiceBundle.objects.filter(seed_key="credit-repair", promised_limit_days=10, flow_rule="").update(
        promised_limit_days=None, flow_rule="catalog.credit_repair_bundle_flow"
    )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0003_remove_seeded_citywide_records")]

    operations = [migrations.RunPython(add_terms, migrations.RunPython.noop)]
