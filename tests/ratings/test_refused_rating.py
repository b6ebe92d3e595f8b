"""A refused rating keeps what the person chose and points at the field (issue 11, section 6): a 差评
without its comment comes back with the level, the per-indicator answers and the comment as they were,
the comment box marked invalid, described by the message, focused, and linked from the summary; on the
QR page, on the case page (after its redirect) and at the kiosk."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.helpers import food_licence_uploads
from tests.html_page import Page
from tests.ratings.test_visits import bind
from yuexiu.cases import services as case_services
from yuexiu.catalog.models import ServiceItem
from yuexiu.ratings import services
from yuexiu.ratings.models import Rating

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(datetime(2025, 6, 18, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield


@pytest.fixture
def closed_case(catalogue):
    services.load_question_sets()
    case = case_services.submit_application(
        item=ServiceItem.objects.get(seed_key="food-business-licence-new"),
        applicant=catalogue["enterprise_demo"],
        idempotency_key="refused-rating",
        form_data={},
        uploads=food_licence_uploads(),
    )
    case = case_services.accept_case(case=case, actor=catalogue["window_centre"])
    case = case_services.approve_case(case=case, actor=catalogue["approver_scj"])
    case = case_services.deliver_result(case=case, actor=catalogue["window_centre"], method="electronic")
    return case_services.close_case(case=case, actor=catalogue["window_centre"])


def _checked_level(page: Page) -> list[str]:
    return [
        radio.attrs["value"]
        for radio in page.all("input")
        if radio.attrs.get("type") == "radio" and "checked" in radio.attrs
    ]


def _selected(page: Page, select_id: str) -> str:
    options = [option for option in page.by_id(select_id).children if "selected" in option.attrs]
    return options[0].text_content() if options else ""


def assert_the_comment_is_pointed_at(page: Page, *, comment: str = "") -> None:
    box = page.by_id("rating-comment")
    assert box.text_content() == comment
    assert box.attrs["aria-invalid"] == "true"
    assert "autofocus" in box.attrs
    assert page.by_id(box.attrs["aria-describedby"]).text_content() == "差评请填写意见，以便核实整改。"
    summary = page.by_id("rating-errors")
    links = [link for link in summary.children[0].children if link.tag == "a"]
    assert [(link.attrs["href"], link.text_content()) for link in links] == [
        ("#rating-comment", "差评请填写意见，以便核实整改。")
    ]


def test_a_差评_without_a_comment_on_the_qr_page_keeps_the_level_and_answers_and_points_at_the_comment(
    client, closed_case
):
    token = services.rating_token(closed_case)
    question = services.current_question_set(closed_case).questions[0]
    response = client.post(f"/ratings/r/{token}/", {"level": "2", f"q:{question}": "1", "comment": "   "})
    assert response.status_code == 200
    page = Page(response.content.decode())
    assert _checked_level(page) == ["2"]
    assert _selected(page, "q-1") == "非常不满意"
    assert_the_comment_is_pointed_at(page, comment="   ")
    assert Rating.objects.count() == 0
    # Nothing else is marked invalid.
    assert [element.attrs["id"] for element in page.elements if element.attrs.get("aria-invalid")] == ["rating-comment"]

    response = client.post(f"/ratings/r/{token}/", {"level": "2", f"q:{question}": "1", "comment": "材料退回两次"})
    assert "rating-errors" not in response.content.decode()
    assert Rating.objects.get().comment == "材料退回两次"


def test_a_rating_without_a_level_points_at_the_level_and_keeps_the_comment(client, closed_case):
    token = services.rating_token(closed_case)
    page = Page(client.post(f"/ratings/r/{token}/", {"comment": "很好"}).content.decode())
    assert page.by_id("rating-comment").text_content() == "很好"
    radios = [element for element in page.all("input") if element.attrs.get("type") == "radio"]
    assert [radio.attrs["aria-invalid"] for radio in radios] == ["true"] * 5
    assert "autofocus" in radios[0].attrs and radios[0].attrs["id"] == "rating-level-5"
    fieldset = radios[0].parent.parent
    assert fieldset.tag == "fieldset"
    assert page.by_id(fieldset.attrs["aria-describedby"]).text_content().startswith("请选择评价等级")
    assert page.by_id("rating-errors").children[0].children[0].attrs["href"] == "#rating-level-5"


def test_a_差评_refused_on_the_case_page_comes_back_once_with_the_choices_made(client, catalogue, closed_case):
    client.force_login(catalogue["enterprise_demo"])
    response = client.post(f"/cases/{closed_case.number}/rating/", {"level": "1", "comment": ""})
    assert response.status_code == 302 and response.url == f"/cases/{closed_case.number}/"
    page = Page(client.get(response.url).content.decode())
    assert _checked_level(page) == ["1"]
    assert_the_comment_is_pointed_at(page)
    assert Rating.objects.count() == 0
    again = Page(client.get(response.url).content.decode())  # shown once: a reload starts afresh
    assert _checked_level(again) == []
    assert "aria-invalid" not in again.by_id("rating-comment").attrs


def test_a_差评_refused_at_the_kiosk_keeps_the_level(client, catalogue):
    services.load_question_sets()
    visit = services.record_visit(actor=catalogue["window_centre"], window_name="综合窗口3号")
    bind(client, catalogue["window_centre"], "kiosk")
    response = client.post("/ratings/kiosk/", {"code": visit.code, "level": "1", "comment": ""})
    page = Page(response.content.decode())
    assert _checked_level(page) == ["1"]
    assert_the_comment_is_pointed_at(page)
    assert Rating.objects.count() == 0


def test_a_comment_over_its_limit_comes_back_whole_marked_on_its_field(client, closed_case):
    token = services.rating_token(closed_case)
    comment = "排" * 1001
    page = Page(client.post(f"/ratings/r/{token}/", {"level": "1", "comment": comment}).content.decode())
    box = page.by_id("rating-comment")
    assert box.text_content() == comment
    assert box.attrs["aria-invalid"] == "true"
    assert page.by_id(box.attrs["aria-describedby"]).text_content() == (
        "意见不能超过 1000 个字符（现为 1001 个），未作任何更改，请删减后重新提交。"
    )
    assert _checked_level(page) == ["1"]
    assert Rating.objects.count() == 0
