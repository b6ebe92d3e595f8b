"""Dated rule parameters: numbers set by regulations, looked up by key and date.

A change in the law is a new row with a new ``effective_from``, never an edit of code.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from yuexiu.core import audit
from yuexiu.core.errors import NotFound
from yuexiu.core.models import RuleParameter


def get_rule(key: str, on: date | None = None) -> RuleParameter:
    """The row of ``key`` in force on ``on`` (default: today in Asia/Shanghai).

    Raises ``NotFound`` when no row covers that date.
    """
    on = on or timezone.localdate()
    row = (
        RuleParameter.objects.filter(key=key, effective_from__lte=on)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=on))
        .order_by("-effective_from")
        .first()
    )
    if row is None:
        raise NotFound(f"规则参数“{key}”在 {on} 没有生效的取值，请管理员在规则参数表中补充。", code="rule_missing")
    return row


def get_rule_value(key: str, on: date | None = None) -> Any:
    return get_rule(key, on).value


RULES_DATA = Path(__file__).resolve().parent / "data" / "rules.yaml"


@transaction.atomic
def load_rule_parameters(path: Path = RULES_DATA) -> int:
    """Create the rows of ``path`` (YAML list) that the table lacks, matched on key and effective_from.

    Returns the number created; rows an administrator already holds are never overwritten.
    """
    created = 0
    for row in yaml.safe_load(path.read_text(encoding="utf-8")):
        _, was_created = RuleParameter.objects.get_or_create(
            key=row["key"],
            effective_from=row["effective_from"],
            defaults={name: row[name] for name in row if name not in {"key", "effective_from"}},
        )
        created += was_created
    if created:
        audit.record_event(action="rule_parameter.loaded", changes={"created": created}, message="导入规则参数")
    return created
