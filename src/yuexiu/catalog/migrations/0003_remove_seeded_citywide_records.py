"""The seed once created three 全市通办 records (全程网办) that its source does not support:
guides-guangdong.yaml marks every item's citywide handling as unknown. Remove exactly those rows
(same item, mode and source address as seeded); records an officer entered are kept."""

from __future__ import annotations

from django.db import migrations

SEEDED = [
    ("food-business-licence-new", "http://baidu.baiduer.com.cn/guonei/2022/0223/11712.html"),
    ("individual-business-registration", "https://www.16zc.cn/index.php/archives/detail.html?id=2169"),
    ("birth-medical-certificate", "https://03384.cn/noticeshow-21-615.html"),
]


def remove_seeded_records(apps, schema_editor):
    CitywideHandling = apps.get_model("catalog", "CitywideHandling")
    for seed_key, source_url in SEEDED:
        CitywideHandling.objects.filter(item__seed_key=seed_key, mode="fully_online", source_url=source_url).delete()


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_bundle_limit_terms_and_dated_flow")]

    operations = [migrations.RunPython(remove_seeded_records, migrations.RunPython.noop)]
