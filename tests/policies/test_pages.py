"""The pages people use: the public library and 公示 list, My policies, an officer's lists."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.helpers import at
from yuexiu.policies import services
from yuexiu.policies.models import Candidate, Enterprise, MatchRun

RULES = Path(__file__).parent / "rules"


@pytest.fixture
def matched(cast):
    services.load_policy_library(RULES)
    Enterprise.objects.create(
        uscc="91440104MA5CYX1KXU",
        name="示范科技有限公司",
        district="越秀区",
        credit_status="良好",
        rd_expense=Decimal("1200000"),
    )
    Enterprise.objects.create(
        uscc="91440104MA5D000020",
        name="另一家有限公司",
        district="越秀区",
        credit_status="良好",
        rd_expense=Decimal("1000001"),
    )
    run = MatchRun.objects.create(period=2026, as_of=date(2026, 3, 2), started_by=cast["policy_kgsxj"])
    services.execute_run(run.pk)
    return cast


def test_my_policies_shows_the_match_and_each_unmet_condition_with_the_enterprises_value(client, matched):
    client.force_login(matched["enterprise_demo"])
    html = client.get("/policies/mine/").content.decode()
    assert "测试：研发投入奖励" in html and "120,000.00元" in html
    # the 申报 item: a lead, its 首店 condition decided by the department
    leads = html.split('id="my-leads"')[1].split("</ul>")[0]
    assert "测试：首店落户奖励" in leads and "须主管部门认定：门店为新开设的品牌首店" in leads
    Enterprise.objects.filter(uscc="91440104MA5CYX1KXU").update(district="天河区")
    Candidate.objects.all().delete()
    html = client.get("/policies/mine/").content.decode()
    assert "注册地在越秀区（注册地：天河区）" in html


def test_an_officer_sees_only_their_departments_lists_and_the_public_list_drops_withdrawn_names(client, matched):
    officer = matched["policy_kgsxj"]
    client.force_login(matched["policy_rsj"])
    assert client.get("/workbench/policies/items/loop-test-2025-01/").status_code == 403
    client.force_login(officer)
    page = client.get("/workbench/policies/items/loop-test-2025-01/?status=bogus").content.decode()
    assert "示范科技有限公司" in page and "另一家有限公司" in page
    first, second = Candidate.objects.order_by("enterprise__name")
    for candidate in (first, second):
        services.review(candidate_id=candidate.pk, user=officer, approve=True)
    publicity = services.publish(item_id=first.item_id, user=officer, now=at("2026-03-02T10:00"))
    objection = services.record_objection(
        candidate_id=second.pk,
        user=officer,
        name="王某",
        phone="13800138000",
        reason="不实",
        now=at("2026-03-03T10:00"),
    )
    services.decide_objection(objection_id=objection.pk, user=officer, upheld=True, note="属实")
    client.logout()
    html = client.get(f"/policies/publicity/{publicity.pk}/").content.decode()
    assert second.enterprise.name not in html and first.enterprise.name in html
    assert "公示期间经核实取消 1 家" in html
    assert f"/policies/publicity/{publicity.pk}/" in client.get("/policies/").content.decode()
