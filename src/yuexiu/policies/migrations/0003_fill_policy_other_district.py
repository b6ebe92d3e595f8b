"""Mark the policies already loaded that belong to another district of 广州 (reference material,
never applied to a Yuexiu enterprise), read from the issuer and the items' departments as the rule
loader does (``engine.rules.other_district_of``, copied here as it was when this migration was written)."""

from __future__ import annotations

from django.db import migrations

OTHER_DISTRICTS = ("荔湾区", "海珠区", "天河区", "白云区", "黄埔区", "番禺区", "花都区", "南沙区", "从化区", "增城区")
ALIASES = {"广州开发区": "黄埔区", "黄埔开发区": "黄埔区", "南沙开发区": "南沙区", "南沙新区": "南沙区"}


def _other_district(texts: list[str]) -> str:
    if any("越秀" in text for text in texts):
        return ""
    for text in texts:
        for district in OTHER_DISTRICTS:
            if district in text:
                return district
        for alias, district in ALIASES.items():
            if alias in text:
                return district
    return ""


def fill(apps, schema_editor) -> None:
    PolicyDocument = apps.get_model("policies", "PolicyDocument")
    BenefitItem = apps.get_model("policies", "BenefitItem")
    for policy in PolicyDocument.objects.all():
        departments = list(BenefitItem.objects.filter(policy=policy).values_list("department_name", flat=True))
        district = _other_district([policy.issuer, *departments])
        if district:
            PolicyDocument.objects.filter(pk=policy.pk).update(other_district=district)


class Migration(migrations.Migration):
    dependencies = [("policies", "0002_policy_other_district_and_run_leads")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
