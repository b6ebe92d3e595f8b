"""好差评 in Chromium: the closed case's page shows the QR code and link of the result notice; the
citizen opens it, rates 非常不满意 with a comment, and the public statistics move by that rating."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import check_accessibility
from e2e.test_journeys import log_in

pytestmark = pytest.mark.e2e


def test_a_citizen_rates_a_closed_case_through_its_qr_link(page: Page, site: str, settings, tmp_path):
    from tests.helpers import food_licence_uploads

    from yuexiu.cases import services
    from yuexiu.catalog.models import ServiceItem
    from yuexiu.core.models import User
    from yuexiu.ratings.services import load_question_sets

    settings.MEDIA_ROOT = tmp_path
    load_question_sets()
    users = {user.username: user for user in User.objects.all()}
    case = services.submit_application(
        item=ServiceItem.objects.get(seed_key="food-business-licence-new"),
        applicant=users["citizen_demo"],
        idempotency_key="rating-journey",
        form_data={},
        uploads=food_licence_uploads(),
    )
    case = services.accept_case(case=case, actor=users["window_centre"])
    case = services.approve_case(case=case, actor=users["approver_scj"])
    case = services.deliver_result(case=case, actor=users["window_centre"], method="electronic")
    case = services.close_case(case=case, actor=users["window_centre"])

    page.goto(site + "/ratings/?days=30")
    expect(page.locator("#rating-totals")).to_contain_text("评价数")
    expect(page.locator("#rating-totals li").first).to_contain_text("0")

    log_in(page, site, "citizen_demo")
    page.goto(f"{site}/cases/{case.number}/")
    expect(page.locator(".qr svg")).to_have_count(1)
    check_accessibility(page, "办结办件的评价区")
    page.get_by_role("link", name="评价链接").click()
    check_accessibility(page, "扫码评价页")
    page.get_by_label("非常不满意").check()
    page.get_by_label("意见（差评必填）").fill("窗口排队时间过长")
    page.get_by_role("button", name="提交评价").click()
    expect(page.locator("#rating-thanks")).to_contain_text(case.number)

    page.goto(site + "/ratings/?days=30")
    totals = page.locator("#rating-totals")
    expect(totals.locator("li").nth(0)).to_contain_text("1")
    expect(totals.locator("li").nth(2)).to_contain_text("100.0%")
    check_accessibility(page, "好差评统计")
