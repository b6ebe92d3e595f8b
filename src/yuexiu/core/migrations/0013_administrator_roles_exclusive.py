"""三员分立 in the database itself: an account holding an administrator role (system, security or audit
administrator) holds no other role. A check constraint cannot compare two rows, so a trigger refuses
the INSERT or UPDATE of a role assignment that would put an administrator role beside another role
on one account. On PostgreSQL the trigger first locks the account's row, so two concurrent grants
(one administrator role, one business role) cannot both pass. Accounts that already break the rule
are listed when the migration runs; the administrators see no business data whatever else they hold
(``core.selectors.visible_organisation_ids``), and the security administrator revokes the extra role.
"""

from __future__ import annotations

from django.db import migrations

ADMINISTRATOR_ROLES = "('system_admin', 'security_admin', 'audit_admin')"
CLASH = f"""
    SELECT 1 FROM core_roleassignment other
    WHERE other.user_id = NEW.user_id AND other.id IS NOT NEW.id AND other.role <> NEW.role
      AND (NEW.role IN {ADMINISTRATOR_ROLES} OR other.role IN {ADMINISTRATOR_ROLES})
"""
MESSAGE = "administrator roles are held alone (三员分立)"

SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER core_roleassignment_administrators_alone_insert BEFORE INSERT ON core_roleassignment
    WHEN EXISTS ({CLASH})
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;
    """,
    f"""
    CREATE TRIGGER core_roleassignment_administrators_alone_update BEFORE UPDATE ON core_roleassignment
    WHEN EXISTS ({CLASH})
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS core_roleassignment_administrators_alone_insert;",
    "DROP TRIGGER IF EXISTS core_roleassignment_administrators_alone_update;",
]

POSTGRES_FORWARD = [
    f"""
    CREATE OR REPLACE FUNCTION core_roleassignment_administrators_alone() RETURNS trigger AS $$
    BEGIN
        PERFORM 1 FROM core_user WHERE id = NEW.user_id FOR NO KEY UPDATE;
        IF EXISTS ({CLASH.replace("IS NOT", "IS DISTINCT FROM")}) THEN
            RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER core_roleassignment_administrators_alone BEFORE INSERT OR UPDATE ON core_roleassignment
    FOR EACH ROW EXECUTE FUNCTION core_roleassignment_administrators_alone();
    """,
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS core_roleassignment_administrators_alone ON core_roleassignment;",
    "DROP FUNCTION IF EXISTS core_roleassignment_administrators_alone();",
]


def forward(apps, schema_editor):
    statements = POSTGRES_FORWARD if schema_editor.connection.vendor == "postgresql" else SQLITE_FORWARD
    for statement in statements:
        schema_editor.execute(statement)
    RoleAssignment = apps.get_model("core", "RoleAssignment")
    administrators = set(
        RoleAssignment.objects.filter(role__in=("system_admin", "security_admin", "audit_admin")).values_list(
            "user_id", flat=True
        )
    )
    for user_id in sorted(administrators):
        roles = sorted(RoleAssignment.objects.filter(user_id=user_id).values_list("role", flat=True).distinct())
        if len(roles) > 1:
            print(f"\n  三员分立：账号 {user_id} 同时担任 {', '.join(roles)}，请由安全管理员撤销多余的角色。")


def backward(apps, schema_editor):
    statements = POSTGRES_BACKWARD if schema_editor.connection.vendor == "postgresql" else SQLITE_BACKWARD
    for statement in statements:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("core", "0012_rule_rows_corrected_from_sources")]
    operations = [migrations.RunPython(forward, backward)]
