"""Fill ``Case.applicant_identity`` for the cases already made (as ``cases.services.applicant_identity``
does for new ones). Where one person already has several open applications for one item outside a
一件事, all but the oldest are marked ``repeat_confirmed`` (they were accepted before the rule), so the
unique index of 0005 can be built."""

from django.db import migrations

OPEN_STATUSES = (
    "submitted",
    "accepted",
    "correction_requested",
    "special_procedure",
    "approved",
    "refused",
    "delivered",
)


def fill(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    seen = set()
    for case in Case.objects.select_related("applicant").order_by("submitted_at", "id").iterator(chunk_size=1000):
        applicant = case.applicant
        if applicant is not None and applicant.account_type == "enterprise" and applicant.enterprise_uscc:
            person = f"uscc:{applicant.enterprise_uscc}"
        elif case.applicant_id_number:
            person = f"id:{case.applicant_id_number}"
        elif applicant is not None:
            person = f"user:{applicant.pk}"
        else:
            person = ""
        repeat = False
        if person and case.bundle_case_id is None and case.status in OPEN_STATUSES:
            key = (case.item_id, person)
            repeat = key in seen
            seen.add(key)
        Case.objects.filter(pk=case.pk).update(applicant_identity=person, repeat_confirmed=repeat)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0003_case_applicant_identity_and_repeat_confirmation"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
