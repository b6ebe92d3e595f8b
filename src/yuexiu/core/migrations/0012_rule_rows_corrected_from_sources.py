"""Rows of the rule table corrected against their sources (issue 12): an installation keeps the rows it
loaded (``load_rule_parameters`` never overwrites), so a row that still holds the package's earlier text
is brought to the package's current row. A row an administrator changed is left alone.

- audit.log_retention_min_days: six months are up to 184 days, not 180.
- ratings.default_after_days, ratings.default_level (2019-08-09): the 2019 trial's row cites only it.
- ratings.rectification_step_days: the platform's own default, confidence U (it matched neither source).
- policies.objection_rule (2020-09-21): the 天河 notice's text alone (the 2025 notice is its own row).
- policies.publicity_working_days (2020-09-21): one notice's practice cited (天河 2020), the platform's
  default with confidence U (there is no general rule), not a merge of three notices.

New rows (the 2020-02-19 rating rows, the review periods, the 2025 objection row) are added by
``yuexiu setup`` as any new row is.
"""

from datetime import date
from pathlib import Path

import yaml
from django.db import migrations

RULES = Path(__file__).resolve().parent.parent / "data" / "rules.yaml"

# (key, effective_from) -> the package's earlier value and source_document: a row holding both is untouched.
EARLIER = {
    ("audit.log_retention_min_days", date(2017, 6, 1)): (
        180,
        "《中华人民共和国网络安全法》第二十一条第（三）项：留存相关的网络日志不少于六个月",
    ),
    ("ratings.default_after_days", date(2019, 8, 9)): (
        7,
        '《广东省政务服务"好差评"管理办法(试行)》（粤办函〔2019〕274号）：服务后 7 个自然日内未评价的，'
        '默认"基本满意"（南方日报报道，domain/rules.md §1.3；2020 年版是否保留未核实）',
    ),
    ("ratings.default_level", date(2019, 8, 9)): (3, '粤办函〔2019〕274号：默认"基本满意"（domain/rules.md §1.3）'),
    ("ratings.rectification_step_days", date(2020, 2, 19)): (
        {"verify": 1, "classify": 1, "rectify": 5, "reply": 1, "callback": 5},
        '本地默认值。广东差评核实整改时限未公开（粤办函〔2020〕21号，domain/rules.md §1.3 [U]）；参照汝州"123"'
        "（1 个工作日联系、2–3 个工作日整改答复、5 个工作日二次回访）和德州（5 个工作日整改答复）做法"
        "（domain/rules.md §1.4 [M]）",
    ),
    ("policies.objection_rule", date(2020, 9, 21)): (
        "公示期内以书面形式提出异议：个人须签署真实姓名并写明理由和联系方式，单位须加盖公章并写明联系人；"
        "不按要求提出的不予受理。",
        "广州市天河区发展和改革局 2020 年公示、广州市工业和信息化局 2025-11-14 公示的异议要求"
        "（shared/data/policies-guangzhou.yaml publicity_rules）",
    ),
    ("policies.publicity_working_days", date(2020, 9, 21)): (
        5,
        "政策兑现拟扶持名单公示期。无统一规定（domain/rules.md §7 [U]）；采用广州市天河区发展和改革局 2020 年"
        "绿色发展专项资金公示（2020-09-21 至 2020-09-25，5 个工作日）、广州市工业和信息化局 2025 年小微工业企业"
        '上规模奖补公示（7 个自然日含 5 个工作日）和广东省科技厅、财政厅"公示期为5个工作日"的做法'
        "（shared/data/policies-guangzhou.yaml publicity_rules）",
    ),
}
FIELDS = ("value", "unit", "source_document", "source_url", "confidence", "note")


def correct_rows(apps, schema_editor):
    RuleParameter = apps.get_model("core", "RuleParameter")
    current = {(row["key"], row["effective_from"]): row for row in yaml.safe_load(RULES.read_text(encoding="utf-8"))}
    for (key, effective_from), (value, source_document) in EARLIER.items():
        row = current.get((key, effective_from))
        stored = RuleParameter.objects.filter(key=key, effective_from=effective_from).first()
        if row is None or stored is None or (stored.value, stored.source_document) != (value, source_document):
            continue
        for name in FIELDS:
            setattr(stored, name, row.get(name, ""))
        stored.save(update_fields=list(FIELDS))


class Migration(migrations.Migration):
    dependencies = [("core", "0011_security_event_throttle")]

    operations = [migrations.RunPython(correct_rows, migrations.RunPython.noop)]
