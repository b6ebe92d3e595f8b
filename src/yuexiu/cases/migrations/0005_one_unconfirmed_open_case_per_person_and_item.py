"""At most one open, unconfirmed application per person and item outside a 一件事: two submissions
racing past the service's check cannot both create a case."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0004_fill_applicant_identity"),
        ("catalog", "0001_service_catalogue"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="case",
            constraint=models.UniqueConstraint(
                condition=models.Q(
                    ("bundle_case__isnull", True),
                    ("repeat_confirmed", False),
                    (
                        "status__in",
                        (
                            "submitted",
                            "accepted",
                            "correction_requested",
                            "special_procedure",
                            "approved",
                            "refused",
                            "delivered",
                        ),
                    ),
                    models.Q(("applicant_identity", ""), _negated=True),
                ),
                fields=("item", "applicant_identity"),
                name="one_unconfirmed_open_case_per_person_and_item",
            ),
        ),
    ]
