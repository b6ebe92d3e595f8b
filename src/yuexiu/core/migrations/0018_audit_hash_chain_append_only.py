"""The hash chain's tables refuse UPDATE in the database, like the audit log itself (0002); rows are
removed only by the retention job. Every entry written before the chain existed is queued, so the
linker chains the whole log from its first entry."""

from __future__ import annotations

from django.db import migrations

TABLES = ["core_auditchainlink", "core_auditchainpurge", "core_auditchaincheckpoint"]


def _sqlite(table: str) -> tuple[str, str]:
    return (
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        "BEGIN SELECT RAISE(ABORT, 'audit chain is append-only'); END;",
        f"DROP TRIGGER IF EXISTS {table}_no_update;",
    )


def _postgres(table: str) -> tuple[str, str]:
    return (
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION core_auditchain_refuse_update();",
        f"DROP TRIGGER IF EXISTS {table}_no_update ON {table};",
    )


POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION core_auditchain_refuse_update() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'audit chain is append-only'; END;
$$ LANGUAGE plpgsql;
"""


def forward(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute(POSTGRES_FUNCTION)
    for table in TABLES:
        schema_editor.execute((_postgres if postgres else _sqlite)(table)[0])
    # one statement on both databases, whatever the size of the log
    schema_editor.execute(
        "INSERT INTO core_auditchainpending (event_id) SELECT id FROM core_auditevent "
        "WHERE id NOT IN (SELECT event_id FROM core_auditchainpending)"
    )


def backward(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for table in TABLES:
        schema_editor.execute((_postgres if postgres else _sqlite)(table)[1])
    if postgres:
        schema_editor.execute("DROP FUNCTION IF EXISTS core_auditchain_refuse_update();")


class Migration(migrations.Migration):
    dependencies = [("core", "0017_audit_hash_chain")]
    operations = [migrations.RunPython(forward, backward)]
