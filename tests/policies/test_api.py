"""The 政策兑现 API: the public library, an enterprise's pre-check with values, officers' runs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from yuexiu.policies import services
from yuexiu.policies.models import Enterprise, MatchRun


@pytest.fixture
def library(cast):
    services.load_policy_library()
    return cast


def test_the_library_lists_78_items_53_for_yuexiu_and_12_without_application(client, library):
    body = client.get("/api/v1/policies/items?limit=100").json()
    assert body["count"] == 78 and len(body["items"]) == 78
    assert sum(1 for item in body["items"] if item["other_district"]) == 25
    assert client.get("/api/v1/policies/items?mode=免申即享").json()["count"] == 12
    figures = client.get("/api/v1/policies/figures").json()
    assert (figures["items"], figures["other_district_items"], figures["no_application_items"]) == (53, 25, 12)
    assert figures["paid_fen"] == 0
    missing = client.get("/api/v1/policies/items/no-such-item")
    assert missing.status_code == 404 and missing.json()["message"] == "兑现事项不存在。"


def test_an_enterprise_prechecks_an_item_and_sees_its_own_values(client, library):
    Enterprise.objects.create(uscc="91440104MA5CYX1KXU", name="示范", district="天河区", revenue=Decimal("1000"))
    item_code = client.get("/api/v1/policies/items?mode=免申即享&limit=100").json()["items"][-1]["code"]
    client.force_login(library["enterprise_demo"])
    body = client.get(f"/api/v1/policies/items/{item_code}/precheck").json()
    assert body["eligible"] is False
    seen = {c["label"]: c["seen"] for c in body["conditions"] if c["passed"] is False}
    assert seen and all(value for value in seen.values())
    client.force_login(library["citizen_demo"])
    assert client.get(f"/api/v1/policies/items/{item_code}/precheck").status_code == 403


def test_only_officers_start_and_read_runs(client, library):
    client.force_login(library["citizen_demo"])
    refused = client.post(
        "/api/v1/policies/runs", {"period": 2026, "as_of": "2026-06-30"}, content_type="application/json"
    )
    assert refused.status_code == 403 and MatchRun.objects.count() == 0
    client.force_login(library["policy_kgsxj"])
    started = client.post(
        "/api/v1/policies/runs", {"period": 2026, "as_of": "2026-06-30"}, content_type="application/json"
    )
    assert started.status_code == 202 and started.json()["status"] == "queued"
    again = client.post(
        "/api/v1/policies/runs", {"period": 2026, "as_of": "2026-06-30"}, content_type="application/json"
    )
    assert again.status_code == 409 and "尚未完成" in again.json()["message"]
    run = client.get(f"/api/v1/policies/runs/{started.json()['id']}").json()
    assert (run["progress"], run["stage"]) == (0, "等待后台任务")


def test_the_cli_runs_the_rule_tests_and_checks_a_file(tmp_path):
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("policies", "test", stdout=out)
    assert "78 个事项" in out.getvalue() and "失败 0" in out.getvalue()
    bad = tmp_path / "bad.yaml"
    bad.write_text("policy:\n  code: x\nitems: []\n", encoding="utf-8")
    with pytest.raises(CommandError, match="第3行：缺少 items"):
        call_command("policies", "check", str(bad))
