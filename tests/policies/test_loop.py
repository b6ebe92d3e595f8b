"""The fulfilment loop on real services: a run over a registry, review against the fund pool, 公示
for 5 working days with a written objection, the enterprise's confirmation, payment; snapshots that
registry edits cannot change; two approvals that together exceed the pool."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.storage import storages
from django.db import connection
from django.utils import timezone

from tests.helpers import at
from yuexiu.core.errors import Conflict, DomainError, PermissionDeniedError
from yuexiu.core.models import AuditEvent, OutboxMessage
from yuexiu.policies import services
from yuexiu.policies.engine.rules import RuleFileError
from yuexiu.policies.models import BenefitItem, Candidate, CandidateStatus, Enterprise, FundPool, MatchRun

RULES = Path(__file__).parent / "rules"
DEMO_USCC = "91440104MA5CYX1KXU"


def _enterprise(uscc: str, name: str, rd: str, **extra) -> Enterprise:
    return Enterprise.objects.create(
        uscc=uscc, name=name, district="越秀区", credit_status="良好", rd_expense=Decimal(rd), **extra
    )


@pytest.fixture
def library(cast):
    services.load_policy_library(RULES)
    return cast


@pytest.fixture
def registry(library):
    return {
        "demo": _enterprise(DEMO_USCC, "示范科技有限公司", "1200000.00"),  # 10% = 120,000
        "big": _enterprise("91440104MA5D00002A", "大额研发有限公司", "3000000.00"),  # capped at 150,000
        "edge": _enterprise("91440104MA5D00003X", "临界有限公司", "1000000.00"),  # not "超过"
        "edge_plus": _enterprise("91440104MA5D00004Y", "多一元有限公司", "1000001.00"),  # 100,000 (floored)
        "tianhe": Enterprise.objects.create(
            uscc="91440106MA5D00005R", name="天河研发有限公司", district="天河区", rd_expense=Decimal("5000000")
        ),
    }


def _run(user, as_of=date(2026, 3, 2)) -> MatchRun:
    run = MatchRun.objects.create(period=as_of.year, as_of=as_of, started_by=user)
    return services.execute_run(run.pk)


def test_a_run_finds_exactly_the_qualifying_enterprises_with_exact_amounts(registry, library):
    run = _run(library["policy_kgsxj"])
    assert run.status == "done", run.error
    assert (run.enterprises, run.candidates) == (5, 3)
    amounts = dict(Candidate.objects.values_list("enterprise__name", "engine_amount_fen"))
    assert amounts == {"示范科技有限公司": 12000000, "大额研发有限公司": 15000000, "多一元有限公司": 10000000}
    assert run.by_item["loop-test-2025-01"] == {
        "pairs": 3,
        "amount_fen": 37000000,
        "leads": 0,
        "mode": "免申即享",
        "in_force": True,
        "ceiling": False,
        "illustration": False,
        "validity_recorded": True,
    }
    # The 申报 item's 首店 condition is for the department to decide: all 4 Yuexiu enterprises are
    # leads, not eligible; no amount is summed for them and no candidate is created: they apply.
    assert run.by_item["loop-test-2025-02"] | {"mode": "", "in_force": True} == {
        "pairs": 0,
        "amount_fen": 0,
        "leads": 4,
        "mode": "",
        "in_force": True,
        "ceiling": True,
        "illustration": False,
        "validity_recorded": True,
    }
    assert (run.pairs, run.leads) == (3, 4)
    assert run.snapshot_path == f"policy-runs/{run.pk}/attempt-1/enterprises.parquet"
    assert len(run.snapshot_sha256) == 64 and storages["snapshots"].exists(run.snapshot_path)
    # The demo enterprise's account was told once, through the outbox.
    assert list(OutboxMessage.objects.values_list("recipient__username", "topic")) == [
        ("enterprise_demo", "policy_match")
    ]
    again = _run(library["policy_kgsxj"])
    assert again.candidates == 0 and OutboxMessage.objects.count() == 1


def test_the_whole_loop_review_publicity_objection_confirmation_payment(registry, library):
    officer, enterprise_user = library["policy_kgsxj"], library["enterprise_demo"]
    _run(officer)
    demo = Candidate.objects.get(enterprise__uscc=DEMO_USCC)
    big = Candidate.objects.get(enterprise__name="大额研发有限公司")
    plus = Candidate.objects.get(enterprise__name="多一元有限公司")
    explanation = services.explain(demo)
    assert explanation.reproduced and explanation.decision.eligible
    assert [(c.label, c.used, c.passed) for c in explanation.decision.conditions][:2] == [
        ("注册地在越秀区", "注册地：越秀区", True),
        ("上年度研发费用超过100万元", "上年度研发费用：120万元", True),
    ]
    with pytest.raises(PermissionDeniedError):
        services.review(candidate_id=demo.pk, user=library["policy_rsj"], approve=True)
    services.review(candidate_id=demo.pk, user=officer, approve=True, note="数据核实无误")
    # 250,000 budget: 120,000 committed; 150,000 more would overspend → refused, nothing changes.
    with pytest.raises(Conflict, match="资金池余额不足"):
        services.review(candidate_id=big.pk, user=officer, approve=True)
    services.review(candidate_id=plus.pk, user=officer, approve=True)
    with pytest.raises(DomainError, match="须写明理由"):
        services.review(candidate_id=big.pk, user=officer, approve=False)
    services.review(candidate_id=big.pk, user=officer, approve=False, note="预算已用完，转下一批次")
    pool = FundPool.objects.get(item__code="loop-test-2025-01")
    assert (pool.committed_fen, pool.paid_fen, pool.available_fen) == (22000000, 0, 3000000)

    # 公示 published on Monday 2026-03-02 10:00 runs 5 working days: to Friday 03-06 24:00.
    publicity = services.publish(item_id=demo.item_id, user=officer, now=at("2026-03-02T10:00"))
    assert (
        f"{timezone.localtime(publicity.ends_at):%Y-%m-%d %H:%M:%S}" == "2026-03-06 23:59:59"
        and publicity.working_days == 5
    )
    # The objection rule in force on 2026-03-02: the 市工业和信息化局 notice of 2025-11-14 (one notice per row).
    assert (
        publicity.objection_rule
        == "公示期内书面反映（工作日 9:00–12:00 送达）；个人须实名并附联系方式和证明材料；单位须加盖公章并写明联系人。"
    )
    with pytest.raises(DomainError, match="实名"):
        services.record_objection(
            candidate_id=plus.pk, user=officer, name="", phone="13800138000", reason="x", now=at("2026-03-03T10:00")
        )
    objection = services.record_objection(
        candidate_id=plus.pk,
        user=officer,
        name="王某",
        phone="020-83000000",
        reason="该企业研发费用含非研发支出",
        now=at("2026-03-03T10:00"),
    )
    with pytest.raises(Conflict, match="期满后"):
        services.close_publicity(publicity_id=publicity.pk, user=officer, now=at("2026-03-06T23:59"))
    with pytest.raises(Conflict, match="尚未处理的异议"):
        services.close_publicity(publicity_id=publicity.pk, user=officer, now=at("2026-03-09T09:00"))
    services.decide_objection(objection_id=objection.pk, user=officer, upheld=True, note="经核实研发费用归集不符合规定")
    assert FundPool.objects.get(pk=pool.pk).committed_fen == 12000000

    # The enterprise confirms its account during publicity; only its own accounts may.
    account = {"bank_name": "中国工商银行广州越秀支行", "account_holder": "示范科技有限公司"}
    with pytest.raises(PermissionDeniedError):
        services.confirm_account(
            candidate_id=demo.pk, user=library["citizen_demo"], bank_account="3602000109200123456", **account
        )
    with pytest.raises(DomainError, match="8–30 位数字"):
        services.confirm_account(candidate_id=demo.pk, user=enterprise_user, bank_account="12ab", **account)
    with pytest.raises(DomainError, match="户名须为本企业名称"):  # only the enterprise's own corporate account
        services.confirm_account(
            candidate_id=demo.pk,
            user=enterprise_user,
            bank_name="中国工商银行",
            account_holder="李某",
            bank_account="6222000011112222",
        )
    services.confirm_account(
        candidate_id=demo.pk, user=enterprise_user, bank_account="３６０２ 0001 0920 0123 456", **account
    )
    demo.refresh_from_db()
    assert (demo.bank_account, services.mask_account(demo.bank_account)) == ("3602000109200123456", "****3456")
    with pytest.raises(Conflict, match="公示期满"):
        services.order_disbursement(candidate_id=demo.pk, user=officer)
    services.close_publicity(publicity_id=publicity.pk, user=officer, now=at("2026-03-09T09:00"))
    services.order_disbursement(candidate_id=demo.pk, user=officer)
    services.record_payment(candidate_id=demo.pk, user=officer, reference_no="GK2026030900001")
    demo.refresh_from_db()
    pool.refresh_from_db()
    assert demo.status == CandidateStatus.PAID
    assert (pool.committed_fen, pool.paid_fen, pool.available_fen) == (0, 12000000, 13000000)
    figures = services.figures(2026)
    assert (figures["enterprises_served"], figures["paid_fen"]) == (1, 12000000)
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "policies.approved",
        "policies.published",
        "policies.objection_decided",
        "policies.account_confirmed",
        "policies.paid",
    } <= actions
    topics = sorted(OutboxMessage.objects.filter(recipient=enterprise_user).values_list("topic", flat=True))
    assert topics == ["policy_match", "policy_paid", "policy_publicity"]
    # A second run the same year does not offer the item again: it was granted this year.
    assert _run(officer).candidates == 0


def test_registry_edits_after_a_decision_change_nothing_decided(registry, library):
    officer = library["policy_kgsxj"]
    _run(officer)
    demo = Candidate.objects.get(enterprise__uscc=DEMO_USCC)
    services.review(candidate_id=demo.pk, user=officer, approve=True)
    Enterprise.objects.filter(uscc=DEMO_USCC).update(rd_expense=Decimal("50000.00"), district="天河区")
    demo.refresh_from_db()
    explanation = services.explain(demo)
    assert (demo.approved_fen, explanation.reproduced) == (12000000, True)
    assert explanation.decision.conditions[1].used == "上年度研发费用：120万元"
    # …while the live pre-check sees today's data.
    live = services.precheck(Enterprise.objects.get(uscc=DEMO_USCC), demo.item, on=date(2026, 3, 2))
    assert [c.label for c in live.decision.failed] == [
        "注册地在越秀区",
        "上年度研发费用超过100万元",
        "本年度未获同一事项扶持",
    ]


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_approvals_that_together_exceed_the_pool_one_fails_cleanly(cast):
    services.load_policy_library(RULES)
    _enterprise(DEMO_USCC, "示范科技有限公司", "1400000.00")  # 140,000
    _enterprise("91440104MA5D00002A", "大额研发有限公司", "1300000.00")  # 130,000; together 270,000 > 250,000
    _run(cast["policy_kgsxj"])
    ids = list(Candidate.objects.values_list("pk", flat=True))
    assert len(ids) == 2
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(pk: int) -> None:
        barrier.wait()
        try:
            services.review(candidate_id=pk, user=cast["policy_kgsxj"], approve=True)
            outcomes.append("approved")
        except Conflict as error:
            outcomes.append(error.message[:7])
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(pk,)) for pk in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["approved", "资金池余额不足"]
    pool = FundPool.objects.get(item__code="loop-test-2025-01")
    approved = Candidate.objects.get(status=CandidateStatus.APPROVED)
    assert pool.committed_fen == approved.approved_fen <= pool.budget_fen
    assert Candidate.objects.filter(status=CandidateStatus.PENDING_REVIEW).count() == 1


def test_an_application_needs_the_pre_check_and_every_declaration(registry, library):
    item = BenefitItem.objects.get(code="loop-test-2025-02")
    with pytest.raises(DomainError, match="请逐项确认"):
        services.apply(item_id=item.pk, user=library["enterprise_demo"], declarations=[])
    candidate = services.apply(
        item_id=item.pk, user=library["enterprise_demo"], declarations=["门店为新开设的品牌首店"]
    )
    assert (candidate.source, candidate.engine_amount_fen, candidate.declarations) == (
        "application",
        50000000,
        ["门店为新开设的品牌首店"],
    )
    with pytest.raises(Conflict, match="已申报"):
        services.apply(item_id=item.pk, user=library["enterprise_demo"], declarations=["门店为新开设的品牌首店"])
    # A "最高 50万元" award: the reviewer sets the amount, never above the ceiling.
    with pytest.raises(DomainError, match="不能超过上限"):
        services.review(candidate_id=candidate.pk, user=library["policy_kgsxj"], approve=True, amount_text="500000.01")
    services.review(candidate_id=candidate.pk, user=library["policy_kgsxj"], approve=True, amount_text="300,000")
    candidate.refresh_from_db()
    assert candidate.approved_fen == 30000000


def test_an_invalid_rule_file_is_refused_with_lines_and_nothing_changes(registry, library):
    officer = library["policy_kgsxj"]
    text = (RULES / "loop-policy.yaml").read_text(encoding="utf-8")
    broken = text.replace("value: 100万元", "value: 100").replace("rd_expense * 10%", "rd_expense / 10")
    with pytest.raises(RuleFileError) as error:
        services.save_rule_file(text=broken, user=officer, policy_code="loop-test-2025")
    assert [line for line, _ in error.value.problems] == [21, 25]
    assert "金额应写明金额和单位" in error.value.problems[0][1] and "不支持除法" in error.value.problems[1][1]
    with pytest.raises(PermissionDeniedError):
        services.save_rule_file(text=text, user=library["window_centre"], policy_code="loop-test-2025")
    saved = services.save_rule_file(
        text=text.replace("budget: 25万元", "budget: 30万元"), user=officer, policy_code="loop-test-2025"
    )
    assert saved.revision == 2
    assert FundPool.objects.get(item__code="loop-test-2025-01").budget_fen == 30000000
