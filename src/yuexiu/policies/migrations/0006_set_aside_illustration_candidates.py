"""Illustration items (示例条款) never pay: candidates of them that a database already holds leave the
fulfilment loop. Pending ones and those holding committed money (approved, in 公示, passed, ordered)
become "不予兑现" with the reason, their committed money returned to the pool; open 公示 of such items
end. A payment already registered is history and stays as recorded (figures leave it out)."""

from __future__ import annotations

from django.db import migrations
from django.db.models import F
from django.utils import timezone

NOTE = "示例条款：用于演示匹配方式，不是真实政策，不可申报或兑现。已撤出兑现流程，已核定的资金退回资金池。"
HOLDING = ("approved", "in_publicity", "publicity_passed", "ordered")


def set_aside(apps, schema_editor):
    Candidate = apps.get_model("policies", "Candidate")
    FundPool = apps.get_model("policies", "FundPool")
    Publicity = apps.get_model("policies", "Publicity")
    candidates = Candidate.objects.filter(item__illustration=True, status__in=("pending_review", *HOLDING))
    for candidate in candidates.order_by("pk"):
        if candidate.status in HOLDING and candidate.approved_fen:
            FundPool.objects.filter(item_id=candidate.item_id).update(
                committed_fen=F("committed_fen") - candidate.approved_fen
            )
        candidate.status = "rejected"
        candidate.review_note = NOTE
        candidate.version = candidate.version + 1
        candidate.save(update_fields=["status", "review_note", "version"])
    Publicity.objects.filter(item__illustration=True, closed_at__isnull=True).update(closed_at=timezone.now())


class Migration(migrations.Migration):
    dependencies = [("policies", "0005_policy_validity_record")]

    operations = [migrations.RunPython(set_aside, migrations.RunPython.noop)]
