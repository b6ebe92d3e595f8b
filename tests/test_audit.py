"""The audit log: append-only, searched and exported by the audit administrator, kept >= 184 days
(six months, 《网络安全法》第二十一条)."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from yuexiu.core import audit, tasks
from yuexiu.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_an_entry_cannot_be_edited_or_deleted_through_the_application(reference_data):
    event = audit.record_event(action="test.happened", message="原始内容")
    event.message = "篡改"
    with pytest.raises(PermissionError, match="只能追加"):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(message="篡改")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).message == "原始内容"


def test_the_database_refuses_an_update_even_in_raw_sql(reference_data):
    event = audit.record_event(action="test.happened", message="原始内容")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET message = %s WHERE id = %s", ["篡改", event.pk])
    assert AuditEvent.objects.get(pk=event.pk).message == "原始内容"


def test_login_failure_and_success_are_recorded_with_ip(client, cast, password):
    client.post("/accounts/login/", {"username": "citizen_demo", "password": "wrong-Password1"})
    client.post("/accounts/login/", {"username": "citizen_demo", "password": password})
    failed = AuditEvent.objects.get(action="auth.login_failed")
    succeeded = AuditEvent.objects.get(action="auth.login_succeeded")
    assert (failed.actor_username, failed.outcome, failed.ip_address) == ("citizen_demo", "failed", "127.0.0.1")
    assert (succeeded.actor, succeeded.outcome) == (cast["citizen_demo"], "succeeded")


def test_staff_events_carry_role_and_organisation(client, cast, password):
    client.post("/accounts/login/", {"username": "window_hongqiao", "password": password})
    event = AuditEvent.objects.get(action="auth.login_succeeded")
    assert event.actor_roles == "window_officer"
    assert event.organisation.code == "440104001000"


def test_the_audit_administrator_searches_the_log(client, cast):
    audit.record_event(action="organisation.updated", actor=cast["sysadmin"], message="改名")
    audit.record_event(action="auth.login_failed", actor_username="x", outcome="failed")
    client.force_login(cast["auditadmin"])
    page = client.get("/workbench/audit/", {"action": "organisation.updated"}).content.decode()
    assert "改名" in page
    assert "auth.login_failed" not in page
    assert "共 1 条" in page


def test_an_export_is_a_csv_excel_can_read_and_is_itself_audited(client, cast):
    audit.record_event(action="organisation.updated", actor=cast["sysadmin"], message="改名")
    client.force_login(cast["auditadmin"])
    response = client.get("/workbench/audit/export.csv", {"action": "organisation.updated"})
    body = b"".join(response.streaming_content).decode("utf-8")
    assert response["Content-Type"].startswith("text/csv")
    assert body.startswith("\ufeff时间（北京时间）,账号")
    assert body.count("\n") == 2  # header + one event
    assert "改名" in body
    assert AuditEvent.objects.filter(action="audit.exported", actor=cast["auditadmin"]).count() == 1


def test_other_staff_are_refused_the_log_and_the_refusal_is_audited(client, cast):
    client.force_login(cast["sysadmin"])
    response = client.get("/workbench/audit/")
    assert response.status_code == 403
    assert "只有审计管理员可以查看审计日志" in response.content.decode()
    denied = AuditEvent.objects.get(action="permission.denied")
    assert (denied.actor, denied.outcome) == (cast["sysadmin"], "denied")
    assert not AuditEvent.objects.filter(action="audit.exported").exists()


def test_the_api_refuses_the_log_to_a_citizen_with_the_error_shape(client, cast):
    client.force_login(cast["citizen_demo"])
    response = client.get("/api/v1/audit-events")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert AuditEvent.objects.filter(action="permission.denied", actor=cast["citizen_demo"]).count() == 1


def test_the_api_gives_the_audit_administrator_filtered_events(client, cast):
    audit.record_event(action="organisation.updated", actor=cast["sysadmin"], message="改名")
    client.force_login(cast["auditadmin"])
    body = client.get("/api/v1/audit-events", {"actor": "sysadmin", "action": "organisation."}).json()
    assert body["count"] == 1
    assert body["items"][0]["message"] == "改名"
    assert client.get("/api/v1/audit-events", {"ip_address": "not-an-ip"}).status_code == 422


def _event_at(days_ago: int, message: str) -> AuditEvent:
    event = AuditEvent(action="test.old", message=message, occurred_at=timezone.now() - timedelta(days=days_ago))
    event.save()
    return event


def test_retention_removes_only_entries_past_the_period_and_archives_them(reference_data, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.AUDIT_RETENTION_DAYS = 365
    old = _event_at(400, "很久以前")
    recent = _event_at(200, "半年多以前")
    assert tasks.purge_expired_audit_events() == 1
    assert not AuditEvent.objects.filter(pk=old.pk).exists()
    assert AuditEvent.objects.filter(pk=recent.pk).exists()
    [archive] = (tmp_path / "audit-archive").iterdir()
    with gzip.open(archive, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    assert [row["message"] for row in rows] == ["很久以前"]
    assert AuditEvent.objects.filter(action="audit.retention_purged").count() == 1
    assert tasks.purge_expired_audit_events() == 0


def test_retention_never_goes_below_the_legal_six_months_which_are_up_to_184_days(reference_data, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.AUDIT_RETENTION_DAYS = 30
    # 183 days before today (2026-12-02) is 2026-06-02, exactly six calendar months ago: counted as 180
    # days, it would have gone on 2026-11-29, before it was six months old (June to November: 183 days).
    kept = _event_at(183, "刚满六个月")
    old = _event_at(185, "超过六个月")
    assert tasks.retention_days() == 184
    assert tasks.purge_expired_audit_events() == 1
    assert AuditEvent.objects.filter(pk=kept.pk).exists()
    assert not AuditEvent.objects.filter(pk=old.pk).exists()


def test_the_retention_job_is_scheduled_daily(reference_data):
    from django_q.models import Schedule

    from yuexiu.core.schedules import ensure_schedules

    ensure_schedules()
    schedule = Schedule.objects.get(func="yuexiu.core.tasks.purge_expired_audit_events")
    assert schedule.schedule_type == Schedule.DAILY
    assert ensure_schedules() == 0


def test_a_search_date_out_of_range_is_explained_not_a_server_error(client, cast):
    client.force_login(cast["auditadmin"])
    response = client.get("/workbench/audit/", {"since": "0001-01-01"})
    assert response.status_code == 200
    assert "日期应在 1900 年至 2100 年之间" in response.content.decode()
    export = client.get("/workbench/audit/export.csv", {"since": "0001-01-01"})
    assert b"".join(export.streaming_content).decode().count("\n") == 1  # header only
