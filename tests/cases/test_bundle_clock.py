"""The clock of a 一件事 application counts what its promise counts (issue 12).

新生儿出生一件事 promises "最快 5 个工作日，制卡和邮寄时间不计入" (one-thing-2024.yaml, psc.zs.gov.cn): the
clock runs from acceptance to the last decision while some department is handling a sub-case; the
card item's 制卡 is a special procedure that stops it, and delivery by post comes after the decisions.
信用修复一件事 takes its limit from the credit-repair rule in force on the day of the application."""

from __future__ import annotations

import time_machine

from tests.cases.test_bundle_cases import APPROVERS, FORM
from tests.helpers import at
from yuexiu.cases import selectors, services
from yuexiu.cases.bundle_clock import SubCaseSpan, idle_pauses
from yuexiu.cases.clock import Pause
from yuexiu.catalog.models import ServiceBundle

CARD = "社会保障卡申领"


def _newborn_application(catalogue):
    newborn = ServiceBundle.objects.get(seed_key="newborn-birth")
    bundle_case = services.submit_bundle_application(
        bundle=newborn, applicant=catalogue["citizen_demo"], idempotency_key="clock", form_data=FORM
    )
    services.accept_bundle_case(bundle_case=bundle_case, actor=catalogue["window_centre"])
    return bundle_case


def test_card_making_and_postage_do_not_count_towards_the_newborn_promise(client, catalogue):
    with time_machine.travel(at("2026-03-02T10:00"), tick=False):  # Monday
        bundle_case = _newborn_application(catalogue)
    card = bundle_case.sub_cases.get(item__name=CARD)
    with time_machine.travel(at("2026-03-03T10:00"), tick=False):
        for case in bundle_case.sub_cases.exclude(pk=card.pk).order_by("id"):
            services.approve_case(case=case, actor=catalogue[APPROVERS[case.organisation.code]])
        client.force_login(catalogue["approver_rsj"])
        page = client.get(f"/cases/{card.number}/").content.decode()
        assert 'id="special-name" name="name" maxlength="100" required value="制卡"' in page
        assert "本事项在“新生儿出生一件事”中的制卡时间不计入整体时限" in page
        services.start_special_procedure(
            case=card,
            actor=catalogue["approver_rsj"],
            name="制卡",
            legal_basis="新生儿出生一件事整体承诺时限不计入制卡时间",
        )
    with time_machine.travel(at("2026-03-09T10:00"), tick=False):
        progress = selectors.bundle_progress(bundle_case)
        assert progress.clock.is_paused and progress.clock.paused_days == 3  # the 4th, 5th and 6th
        assert dict((case.item.name, note) for case, note in progress.rows)[CARD] == "制卡中，不计入整体时限"
    with time_machine.travel(at("2026-03-11T10:00"), tick=False):  # the card is made (Wednesday)
        card.refresh_from_db()
        services.end_special_procedure(case=card, actor=catalogue["approver_rsj"], note="卡已制成")
        services.approve_case(case=card, actor=catalogue["approver_rsj"])
    with time_machine.travel(at("2026-03-19T10:00"), tick=False):  # posted a week later
        services.deliver_bundle_case(
            bundle_case=bundle_case, actor=catalogue["window_centre"], method="post", tracking_number="SF1234567890"
        )
        progress = selectors.bundle_progress(bundle_case)
    # counted: the 3rd and the 11th; the 4th–10th (5 working days of 制卡, nothing else open) and the
    # week of waiting and posting after the last decision are not
    assert progress.status_label == "已办结"
    assert progress.clock.is_finished and progress.clock.used_days == 2 and not progress.clock.is_overdue
    assert progress.limit_text == "最快 5 个工作日（制卡、邮寄时间不计入）"
    card.refresh_from_db()
    card_clock = selectors.case_clocks(card).promised
    assert (card_clock.used_days, card_clock.paused_days, card_clock.is_overdue) == (2, 5, False)
    client.force_login(catalogue["citizen_demo"])
    page = client.get(f"/cases/bundles/{bundle_case.number}/").content.decode()
    assert '<dd id="bundle-limit-terms">最快 5 个工作日（制卡、邮寄时间不计入）</dd>' in page
    assert "制卡时间不计入整体时限" in page


def test_a_sub_case_paused_alone_does_not_stop_the_bundle_while_other_departments_work():
    monday, tuesday, friday = at("2026-03-02T10:00"), at("2026-03-03T10:00"), at("2026-03-06T10:00")
    spans = [
        SubCaseSpan(accepted_at=monday, decided_at=friday),
        SubCaseSpan(accepted_at=monday, decided_at=None, pauses=[Pause(start=tuesday, end=None)]),
    ]
    # the second sub-case waits from Tuesday, the first is handled until Friday: the bundle idles only
    # after Friday's decision
    assert idle_pauses(spans, started_at=monday, until=at("2026-03-09T10:00")) == [Pause(start=friday, end=None)]


def test_the_bundle_is_idle_when_every_open_sub_case_waits_for_the_applicant():
    monday, tuesday, thursday = at("2026-03-02T10:00"), at("2026-03-03T16:00"), at("2026-03-05T09:00")
    spans = [
        SubCaseSpan(accepted_at=monday, decided_at=None, pauses=[Pause(start=tuesday, end=thursday)]),
        SubCaseSpan(accepted_at=monday, decided_at=None, pauses=[Pause(start=tuesday, end=thursday)]),
    ]
    assert idle_pauses(spans, started_at=monday, until=at("2026-03-06T10:00")) == [Pause(start=tuesday, end=thursday)]


def _credit_application(catalogue, key):
    bundle = ServiceBundle.objects.get(seed_key="credit-repair")
    return services.submit_bundle_application(
        bundle=bundle, applicant=catalogue["enterprise_demo"], idempotency_key=key, form_data={}
    )


def test_credit_repair_takes_the_limit_of_the_rule_in_force_on_the_day_of_application(client, catalogue):
    with time_machine.travel(at("2026-03-31T10:00"), tick=False):  # the last day of 58号令
        under_58 = _credit_application(catalogue, "c58")
    with time_machine.travel(at("2026-04-01T10:00"), tick=False):  # 36号令 in force
        under_36 = _credit_application(catalogue, "c36")
        services.accept_bundle_case(bundle_case=under_36, actor=catalogue["window_centre"])
        progress = selectors.bundle_progress(under_36)
    assert under_58.promised_limit_days == 10
    assert selectors.bundle_progress(under_58).limit_text == "10 个工作日"
    assert under_36.promised_limit_days is None
    assert progress.clock is None
    assert progress.limit_text.startswith("办理时限待核实（《信用修复管理办法》（国家发展和改革委员会令第36号）")
    assert {case.promised_limit_days for case in under_36.sub_cases.all()} == {None}
