"""Free text has server-side limits (issue 11 §4: a 6,000-character 审批意见 was stored). One mechanism
(``yuexiu.core.text_limits``): a text over its limit is refused whole with a Chinese message that says
the limit, and nothing changes — on case pages, in every service of cases, ratings, supervision,
policies and guide editing, in Django forms and in ninja schemas."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.helpers import food_licence_uploads
from yuexiu.cases import services as cases
from yuexiu.cases.models import Case, CaseEvent, CaseStatus
from yuexiu.catalog import services as catalog
from yuexiu.catalog.models import GuideStatus, GuideVersion
from yuexiu.core.models import AuditEvent, Organisation
from yuexiu.core.text_limits import TextLimit, TextTooLong, check_lengths, text_field
from yuexiu.policies import services as policies
from yuexiu.ratings import services as ratings
from yuexiu.ratings.models import Rating, SelfCheck
from yuexiu.supervision import services as supervision
from yuexiu.supervision.models import Observation, SupervisionOrder

JUNE = datetime(2025, 6, 18, 10, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(JUNE, tick=True):
        yield


@pytest.fixture
def accepted(catalogue, food) -> Case:
    case = cases.submit_application(
        item=food,
        applicant=catalogue["enterprise_demo"],
        idempotency_key="limits",
        form_data={},
        uploads=food_licence_uploads(),
    )
    return cases.accept_case(case=case, actor=catalogue["window_centre"])


@pytest.fixture
def closed(catalogue, accepted) -> Case:
    ratings.load_question_sets()
    case = cases.approve_case(case=accepted, actor=catalogue["approver_scj"], note="符合条件")
    case = cases.deliver_result(case=case, actor=catalogue["window_centre"], method="electronic")
    return cases.close_case(case=case, actor=catalogue["window_centre"])


def test_a_6000_character_approval_opinion_is_refused_on_the_page_and_nothing_changes(client, catalogue, accepted):
    client.force_login(catalogue["approver_scj"])
    response = client.post(
        f"/cases/{accepted.number}/approve/", {"version": accepted.version, "note": "同意" * 3000}, follow=True
    )
    assert "审批意见不能超过 2000 个字符（现为 6000 个），未作任何更改，请删减后重新提交。" in response.content.decode()
    case = Case.objects.get(pk=accepted.pk)
    assert (case.status, case.version, case.decision_reason, case.decided_at) == (
        CaseStatus.ACCEPTED,
        accepted.version,
        "",
        None,
    )
    assert not CaseEvent.objects.filter(case=case, action="approved").exists()
    assert not AuditEvent.objects.filter(action="case.approved").exists()


def test_an_opinion_at_the_limit_is_kept_whole(catalogue, accepted):
    case = cases.approve_case(case=accepted, actor=catalogue["approver_scj"], note="准" * 2000)
    case.refresh_from_db()
    assert len(case.decision_reason) == 2000
    assert len(case.events.get(action="approved").note) == 2000


@pytest.mark.parametrize(
    ("action", "label", "limit"),
    [
        ("decline", "不予受理理由", 2000),
        ("correct_item", "需补正的内容第 2 项", 300),
        ("correct_notice", "需补正的内容", 5000),
        ("special_name", "特殊环节名称", 100),
        ("special_basis", "法律依据", 300),
        ("refuse_reason", "不予办理理由", 2000),
        ("refuse_basis", "法律依据", 300),
        ("citywide", "对方机构", 200),
    ],
)
def test_every_free_text_of_a_case_is_refused_over_its_limit(catalogue, food, action, label, limit):
    case = cases.submit_application(
        item=food,
        applicant=catalogue["enterprise_demo"],
        idempotency_key="x",
        form_data={},
        uploads=food_licence_uploads(),
    )
    window, approver = catalogue["window_centre"], catalogue["approver_scj"]
    if action not in ("decline", "citywide"):
        case = cases.accept_case(case=case, actor=window)
    too_long = "字" * (limit + 1)
    calls = {
        "decline": lambda: cases.decline_case(case=case, actor=window, reason=too_long),
        "correct_item": lambda: cases.request_correction(case=case, actor=window, missing=["营业执照", too_long]),
        "correct_notice": lambda: cases.request_correction(case=case, actor=window, missing=["补" * 250] * 21),
        "special_name": lambda: cases.start_special_procedure(
            case=case, actor=approver, name=too_long, legal_basis="法"
        ),
        "special_basis": lambda: cases.start_special_procedure(
            case=case, actor=approver, name="听证", legal_basis=too_long
        ),
        "refuse_reason": lambda: cases.refuse_case(case=case, actor=approver, reason=too_long, legal_basis="法"),
        "refuse_basis": lambda: cases.refuse_case(case=case, actor=approver, reason="不符合", legal_basis=too_long),
        "citywide": lambda: cases.register_citywide_intake(
            case=case, actor=window, direction="incoming", other_body=too_long, result_place="intake"
        ),
    }
    before = (case.status, case.version)
    with pytest.raises(TextTooLong) as error:
        calls[action]()
    assert error.value.message.startswith(f"{label}不能超过 {limit} 个字符（现为 ")
    assert error.value.code == "text_too_long"
    case.refresh_from_db()
    assert (case.status, case.version) == before
    assert case.pauses.count() == 0 and not hasattr(case, "transfer")


def test_the_answers_to_a_correction_and_a_special_procedure_have_limits(catalogue, accepted):
    window, approver = catalogue["window_centre"], catalogue["approver_scj"]
    case = cases.request_correction(case=accepted, actor=window, missing=["营业执照副本"])
    with pytest.raises(TextTooLong, match="补正说明不能超过 2000 个字符"):
        cases.submit_correction(case=case, actor=catalogue["enterprise_demo"], note="补" * 2001)
    case.refresh_from_db()
    assert case.status == CaseStatus.CORRECTION_REQUESTED
    case = cases.submit_correction(case=case, actor=catalogue["enterprise_demo"], note="已补交")
    case = cases.start_special_procedure(case=case, actor=approver, name="现场核查", legal_basis="《办法》第十条")
    with pytest.raises(TextTooLong, match="说明不能超过 2000 个字符"):
        cases.end_special_procedure(case=case, actor=approver, note="毕" * 2001)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SPECIAL_PROCEDURE


def test_a_window_registration_with_a_too_long_name_lists_it_with_the_other_problems(catalogue, food):
    with pytest.raises(Exception) as error:
        cases.submit_application(
            item=food,
            registered_by=catalogue["window_centre"],
            idempotency_key="walk-in",
            form_data={},
            applicant_name="名" * 201,
            applicant_phone="123",
        )
    problems = error.value.details["errors"]
    assert "申请人姓名或名称不能超过 200 个字符（现为 201 个），未作任何更改，请删减后重新提交。" in problems
    assert len(problems) == 2
    assert Case.objects.count() == 0


def test_a_too_long_rating_comment_is_refused_on_the_case_page_and_no_rating_is_stored(client, catalogue, closed):
    client.force_login(catalogue["enterprise_demo"])
    response = client.post(f"/cases/{closed.number}/rating/", {"level": "1", "comment": "差" * 1001}, follow=True)
    assert "意见不能超过 1000 个字符（现为 1001 个）" in response.content.decode()
    assert Rating.objects.count() == 0


def test_the_texts_of_the_rating_loop_have_limits(catalogue, closed):
    rating = ratings.rate_case(case=closed, channel="qr", level=1, comment="跑了三趟")
    rectification = rating.rectification
    with pytest.raises(TextTooLong, match="核实情况不能超过 2000 个字符"):
        ratings.advance_rectification(rectification=rectification, actor=catalogue["approver_scj"], note="查" * 2001)
    rectification.refresh_from_db()
    assert (rectification.step, rectification.notes) == ("verify", {})
    with pytest.raises(TextTooLong, match="申诉理由不能超过 2000 个字符"):
        ratings.file_appeal(rating=rating, actor=catalogue["approver_scj"], kind="mistaken", reason="诉" * 2001)
    appeal = ratings.file_appeal(rating=rating, actor=catalogue["approver_scj"], kind="mistaken", reason="误评")
    with pytest.raises(TextTooLong, match="复核意见不能超过 2000 个字符"):
        ratings.decide_appeal(appeal=appeal, actor=catalogue["supervisor_demo"], upheld=True, decision="复" * 2001)
    appeal.refresh_from_db()
    assert appeal.upheld is None
    with pytest.raises(TextTooLong, match="窗口名称不能超过 50 个字符"):
        ratings.record_visit(actor=catalogue["window_centre"], window_name="窗" * 51)


def test_a_self_check_note_has_a_limit(catalogue, closed):
    ratings.rate_case(case=closed, channel="qr", level=5)
    [check] = ratings.sample_for_self_check(actor=catalogue["supervisor_demo"], since=JUNE.replace(month=1), count=1)
    with pytest.raises(TextTooLong, match="说明不能超过 1000 个字符"):
        ratings.record_self_check(
            check=check, actor=catalogue["supervisor_demo"], outcome="confirmed", note="核" * 1001
        )
    assert SelfCheck.objects.get().outcome == ""


def test_supervision_replies_verifications_and_observations_have_limits(catalogue, accepted):
    bureau = Organisation.objects.get(code="440104-SJJ")
    with pytest.raises(TextTooLong, match="监督意见不能超过 5000 个字符"):
        supervision.file_observation(actor=catalogue["integrity_demo"], organisation=bureau, content="督" * 5001)
    assert Observation.objects.count() == SupervisionOrder.objects.count() == 0
    order = supervision.file_observation(actor=catalogue["integrity_demo"], organisation=bureau, content="窗口推诿")
    with pytest.raises(TextTooLong, match="整改情况不能超过 5000 个字符"):
        supervision.respond_order(order=order, actor=catalogue["approver_scj"], response="改" * 5001)
    order.refresh_from_db()
    assert (order.status, order.response) == ("issued", "")
    order = supervision.respond_order(order=order, actor=catalogue["approver_scj"], response="已整改")
    with pytest.raises(TextTooLong, match="核实意见不能超过 5000 个字符"):
        supervision.verify_order(order=order, actor=catalogue["supervisor_demo"], accepted=False, note="核" * 5001)
    order.refresh_from_db()
    assert (order.status, order.verification) == ("responded", "")


def test_policy_reviews_objections_payments_and_rule_files_have_limits(catalogue):
    officer = catalogue["policy_kgsxj"]
    # The texts are refused before the candidate is even looked up: nothing is read or written.
    with pytest.raises(TextTooLong, match="审核意见不能超过 2000 个字符"):
        policies.review(candidate_id=0, user=officer, approve=False, note="否" * 2001)
    with pytest.raises(TextTooLong) as error:
        policies.record_objection(
            candidate_id=0, user=officer, name="名" * 101, phone="13800138000", reason="异" * 2001
        )
    assert error.value.details["errors"][0].startswith("异议人姓名不能超过 100 个字符")
    assert error.value.details["errors"][1].startswith("异议理由不能超过 2000 个字符")
    with pytest.raises(TextTooLong, match="异议处理意见不能超过 2000 个字符"):
        policies.decide_objection(objection_id=0, user=officer, upheld=False, note="处" * 2001)
    with pytest.raises(TextTooLong, match="支付流水号不能超过 64 个字符"):
        policies.record_payment(candidate_id=0, user=officer, reference_no="9" * 65)
    with pytest.raises(TextTooLong, match="规则文件不能超过 200000 个字符"):
        policies.save_rule_file(text="#" * 200_001, user=officer)


def test_guide_summaries_and_return_reasons_have_limits(catalogue, food):
    draft = catalog.create_draft(item=food, editor=catalogue["editor_scj"])
    with pytest.raises(TextTooLong, match="修改说明不能超过 500 个字符"):
        catalog.save_draft(
            version=draft, editor=catalogue["editor_scj"], content=draft.content, change_summary="改" * 501
        )
    catalog.save_draft(version=draft, editor=catalogue["editor_scj"], content=draft.content, change_summary="更新")
    catalog.submit_draft(version=draft, editor=catalogue["editor_scj"])
    with pytest.raises(TextTooLong, match="退回理由不能超过 500 个字符"):
        catalog.return_version(version=draft, reviewer=catalogue["reviewer_zsj"], reason="退" * 501)
    draft.refresh_from_db()
    assert (draft.status, draft.return_reason) == (GuideStatus.SUBMITTED, "")
    assert GuideVersion.objects.get(pk=draft.pk).change_summary == "更新"


def test_forms_and_ninja_schemas_use_the_same_limits(client, reference_data):
    field = text_field("审批意见", TextLimit.OPINION)
    with pytest.raises(Exception) as error:
        field.clean("意" * 2001)
    assert error.value.messages == ["审批意见不能超过 2000 个字符（现为 2001 个），未作任何更改，请删减后重新提交。"]
    assert field.clean(" 意见 ") == "意见"
    response = client.get("/api/v1/organisations", {"q": "越" * (TextLimit.SHORT + 1)})
    assert response.status_code == 422
    assert response.json()["details"]["errors"] == [{"field": "q", "reason": "不能超过 50 个字符"}]


def test_every_problem_of_a_call_is_listed_at_once():
    with pytest.raises(TextTooLong) as error:
        check_lengths(("理由", "理" * 3, 2), ("依据", "依", 2), ("说明", "说" * 4, 3))
    assert error.value.details["errors"] == [
        "理由不能超过 2 个字符（现为 3 个），未作任何更改，请删减后重新提交。",
        "说明不能超过 3 个字符（现为 4 个），未作任何更改，请删减后重新提交。",
    ]
