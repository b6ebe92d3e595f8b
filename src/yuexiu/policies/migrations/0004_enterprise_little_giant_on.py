"""The registry's date of an enterprise's first national 专精特新"小巨人" recognition: the 穗府办规〔2025〕13号
award pays firms newly recognised that year (当年新认定), which the tag alone cannot say."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("policies", "0003_fill_policy_other_district"),
    ]

    operations = [
        migrations.AddField(
            model_name="enterprise",
            name="little_giant_on",
            field=models.DateField(blank=True, null=True, verbose_name="专精特新“小巨人”首次认定日期"),
        ),
    ]
