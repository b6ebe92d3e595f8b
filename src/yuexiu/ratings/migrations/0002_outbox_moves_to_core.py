"""The rating SMS outbox moves to the platform's one outbox (core.OutboxMessage); queued messages
are carried over with the same one-per-case key."""

from django.db import migrations


def carry_over(apps, schema_editor):
    Old = apps.get_model("ratings", "Outbox")
    New = apps.get_model("core", "OutboxMessage")
    for message in Old.objects.select_related("case").iterator():
        New.objects.get_or_create(
            dedupe_key=f"rating_sms:{message.case_id}",
            defaults={
                "recipient_id": message.case.applicant_id,
                "phone": message.phone,
                "topic": "rating_sms",
                "subject": f"办件{message.case.number}评价",
                "body": message.body,
                "sent_at": message.sent_at,
            },
        )


class Migration(migrations.Migration):
    dependencies = [
        ("ratings", "0001_ratings"),
        ("core", "0005_policy_officer_role_and_outbox"),
        ("cases", "0001_case_handling"),
    ]

    operations = [
        migrations.RunPython(carry_over, migrations.RunPython.noop),
        migrations.DeleteModel(name="Outbox"),
    ]
