"""Illustration items (示例条款, written to show how matching works) never pay: a run matches them
only as a demonstration shown apart, with no candidate and no notice; approval, 公示, the enterprise's
confirmation, the disbursement order and payment refuse them in the services (so every page, API
call, command and job does), with one clear message; the library, the API and My policies say what
they are. Candidates a database already holds leave the loop with their committed money returned."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps

from tests.helpers import at
from yuexiu.core.errors import DomainError
from yuexiu.core.models import AuditEvent, OutboxMessage
from yuexiu.policies import demo, services
from yuexiu.policies.models import (
    BenefitItem,
    Candidate,
    Disbursement,
    Enterprise,
    FundPool,
    MatchRun,
    Publicity,
)

RULES = Path(__file__).parent / "rules"
REAL_TEXT = (RULES / "loop-policy.yaml").read_text(encoding="utf-8")
ILLUSTRATION_TEXT = REAL_TEXT.replace("  illustration: false\n", "  illustration: true\n")
DEMO_USCC = "91440104MA5CYX1KXU"
NOTICE = "示例条款：用于演示匹配方式，不是真实政策，不可申报或兑现"
ACCOUNT = {"bank_name": "中国工商银行广州越秀支行", "account_holder": "示范科技有限公司"}


def _enterprise(uscc: str, name: str, rd: str) -> Enterprise:
    return Enterprise.objects.create(
        uscc=uscc, name=name, district="越秀区", credit_status="良好", rd_expense=Decimal(rd)
    )


def _registry() -> None:
    _enterprise(DEMO_USCC, "示范科技有限公司", "1200000.00")  # 10% = 120,000
    _enterprise("91440104MA5D00002A", "大额研发有限公司", "3000000.00")  # capped at 150,000
    _enterprise("91440104MA5D00004Y", "多一元有限公司", "1000001.00")  # 100,000


def _run(user, as_of=date(2026, 3, 2)) -> MatchRun:
    run = MatchRun.objects.create(period=as_of.year, as_of=as_of, started_by=user)
    return services.execute_run(run.pk)


@pytest.fixture
def illustration(tmp_path, cast):
    (tmp_path / "loop-policy.yaml").write_text(ILLUSTRATION_TEXT, encoding="utf-8")
    services.load_policy_library(tmp_path)
    _registry()
    return cast


@pytest.fixture
def relabelled(cast):
    """Candidates in every state of the loop, made while the policy was taken as real; then an
    officer's rule file marks the policy as an illustration (as a database holding the seed library's
    illustrations has them). ``big`` is pending, ``plus`` passed 公示 without a confirmed account,
    ``demo`` is ordered for payment."""
    services.load_policy_library(RULES)
    _registry()
    officer = cast["policy_kgsxj"]
    _run(officer)
    candidates = {c.enterprise.name: c for c in Candidate.objects.select_related("enterprise")}
    demo_candidate, plus = candidates["示范科技有限公司"], candidates["多一元有限公司"]
    for candidate in (demo_candidate, plus):
        services.review(candidate_id=candidate.pk, user=officer, approve=True)
    publicity = services.publish(item_id=demo_candidate.item_id, user=officer, now=at("2026-03-02T10:00"))
    services.confirm_account(
        candidate_id=demo_candidate.pk, user=cast["enterprise_demo"], bank_account="3602000109200123456", **ACCOUNT
    )
    services.close_publicity(publicity_id=publicity.pk, user=officer, now=at("2026-03-09T09:00"))
    services.order_disbursement(candidate_id=demo_candidate.pk, user=officer)
    services.save_rule_file(text=ILLUSTRATION_TEXT, user=officer, policy_code="loop-test-2025")
    assert BenefitItem.objects.get(code="loop-test-2025-01").illustration
    OutboxMessage.objects.all().delete()
    return {
        "cast": cast,
        "officer": officer,
        "big": candidates["大额研发有限公司"],
        "plus": plus,
        "demo": demo_candidate,
        "pool": FundPool.objects.get(item__code="loop-test-2025-01"),
    }


def _states() -> dict[str, str]:
    return dict(Candidate.objects.values_list("enterprise__name", "status"))


def _pool() -> tuple[int, int]:
    pool = FundPool.objects.get(item__code="loop-test-2025-01")
    return pool.committed_fen, pool.paid_fen


def test_a_run_matches_illustrations_only_as_a_demonstration_apart(client, illustration):
    run = _run(illustration["policy_kgsxj"])
    assert run.status == "done", run.error
    # Nothing real: no pair, no lead, no candidate, no notice.
    assert (run.items, run.pairs, run.leads, run.candidates) == (0, 0, 0, 0)
    assert Candidate.objects.count() == 0 and OutboxMessage.objects.count() == 0
    # The demonstration: the same three enterprises with their example amounts, marked as such.
    assert run.by_item["loop-test-2025-01"] == {
        "pairs": 3,
        "amount_fen": 37000000,
        "leads": 0,
        "mode": "免申即享",
        "in_force": True,
        "ceiling": False,
        "illustration": True,
        "validity_recorded": True,
    }
    assert services.figures(2026)["eligible_pairs"] == 0
    client.force_login(illustration["policy_kgsxj"])
    page = client.get(f"/workbench/policies/runs/{run.pk}/").content.decode()
    real, shown_apart = page.split('id="demonstration-heading"')
    assert "测试：研发投入奖励" not in real.split('id="run-results"')[1]
    assert "符合示例条件的企业-事项对 3 个" in shown_apart and "测试：研发投入奖励" in shown_apart
    assert NOTICE in shown_apart


def test_approval_publicity_confirmation_order_and_payment_of_an_illustration_are_refused(relabelled):
    officer, enterprise_user = relabelled["officer"], relabelled["cast"]["enterprise_demo"]
    before_states, before_pool = _states(), _pool()
    assert before_states == {
        "示范科技有限公司": "ordered",
        "多一元有限公司": "publicity_passed",
        "大额研发有限公司": "pending_review",
    }
    refusals = {
        "审核通过（核定资金）": lambda: services.review(candidate_id=relabelled["big"].pk, user=officer, approve=True),
        "发布公示": lambda: services.publish(item_id=relabelled["big"].item_id, user=officer),
        "确认领取": lambda: services.confirm_account(
            candidate_id=relabelled["demo"].pk, user=enterprise_user, bank_account="3602000109200123456", **ACCOUNT
        ),
        "下达拨付": lambda: services.order_disbursement(candidate_id=relabelled["plus"].pk, user=officer),
        "登记拨付": lambda: services.record_payment(
            candidate_id=relabelled["demo"].pk, user=officer, reference_no="GK2026030900001", amount_text="12万元"
        ),
    }
    for step, attempt in refusals.items():
        with pytest.raises(DomainError) as error:
            attempt()
        assert error.value.message == f"“测试：研发投入奖励”是{NOTICE}：不能{step}。"
        assert error.value.code == "illustration_item"
    # Nothing moved: states, the pool, no 公示, no payment, no notice.
    assert (_states(), _pool()) == (before_states, before_pool) == (_states(), (22000000, 0))
    assert Publicity.objects.count() == 1 and Disbursement.objects.get().paid_at is None
    assert OutboxMessage.objects.count() == 0
    # Rejecting stays possible: an officer takes an illustration out of the queue.
    services.review(candidate_id=relabelled["big"].pk, user=officer, approve=False, note="示例条款，不予兑现")
    assert _states()["大额研发有限公司"] == "rejected"


def test_the_pages_refuse_them_with_the_message_and_record_the_refusal(client, relabelled):
    officer = relabelled["officer"]
    client.force_login(officer)
    big, demo_candidate = relabelled["big"], relabelled["demo"]
    page = client.get(f"/workbench/policies/candidates/{big.pk}/").content.decode()
    assert NOTICE in page and 'id="illustration-notice"' in page
    approve = client.post(f"/workbench/policies/candidates/{big.pk}/approve/", {"version": big.version}, follow=True)
    assert f"是{NOTICE}：不能审核通过（核定资金）。" in approve.content.decode()
    published = client.post("/workbench/policies/items/loop-test-2025-01/publish/", follow=True)
    assert f"是{NOTICE}：不能发布公示。" in published.content.decode()
    demo_candidate.refresh_from_db()
    paid = client.post(
        f"/workbench/policies/candidates/{demo_candidate.pk}/pay/",
        {"reference": "GK2026030900001", "amount": "12万元", "version": demo_candidate.version},
        follow=True,
    )
    assert f"是{NOTICE}：不能登记拨付。" in paid.content.decode()
    assert (
        "发布公示（全部审核通过的企业）"
        not in client.get("/workbench/policies/items/loop-test-2025-01/").content.decode()
    )
    client.force_login(relabelled["cast"]["enterprise_demo"])
    mine = client.get(f"/policies/mine/{demo_candidate.pk}/").content.decode()
    assert NOTICE in mine and 'id="confirm-form"' not in mine
    confirmed = client.post(
        f"/policies/mine/{demo_candidate.pk}/", {**ACCOUNT, "bank_account": "3602000109200123456"}, follow=True
    )
    assert f"是{NOTICE}：不能确认领取。" in confirmed.content.decode()
    assert (_states()["大额研发有限公司"], _pool()) == ("pending_review", (22000000, 0))
    refused = AuditEvent.objects.filter(action__endswith="_refused", message__contains=NOTICE)
    assert set(refused.values_list("action", flat=True)) == {
        "policies.approve_refused",
        "policies.publish_refused",
        "policies.pay_refused",
        "policies.confirm_refused",
    }
    assert OutboxMessage.objects.count() == 0


def test_an_enterprise_cannot_apply_for_an_illustration(client, illustration):
    item = BenefitItem.objects.get(code="loop-test-2025-02")
    with pytest.raises(DomainError, match=f"是{NOTICE}：不能申报。"):
        services.apply(item_id=item.pk, user=illustration["enterprise_demo"], declarations=["门店为新开设的品牌首店"])
    client.force_login(illustration["enterprise_demo"])
    page = client.get("/policies/items/loop-test-2025-02/").content.decode()
    assert 'id="apply-form"' not in page and NOTICE in page and "示例不测算、不兑现任何金额" in page
    response = client.post("/policies/items/loop-test-2025-02/apply/", {"declaration": "门店为新开设的品牌首店"})
    assert response.status_code == 302 and Candidate.objects.count() == 0


def test_the_library_the_api_and_my_policies_say_what_illustrations_are(client, cast):
    services.load_policy_library()
    demo.ensure_demo_enterprise()
    library = client.get("/policies/").content.decode()
    assert library.count(NOTICE) >= 27
    item = client.get("/policies/items/yx-illustrations-02/").content.decode()
    assert f'<p class="message message-warning" id="illustration-notice">{NOTICE}。</p>' in item
    listed = client.get("/api/v1/policies/items?limit=100").json()["items"]
    illustrations = [row for row in listed if row["illustration"]]
    assert len(illustrations) == 27 and {row["notice"] for row in illustrations} == {NOTICE}
    client.force_login(cast["enterprise_demo"])
    precheck = client.get("/api/v1/policies/items/yx-illustrations-02/precheck").json()
    assert (precheck["illustration"], precheck["eligible"], precheck["amount_fen"]) == (True, True, None)
    mine = client.get("/policies/mine/").content.decode()
    offered = mine.split('id="my-eligible"')[1].split("</ul>")[0] + mine.split('id="my-leads"')[1].split("</ul>")[0]
    assert "（示例）" not in offered  # every illustration's name ends in （示例）
    shown_apart = mine.split('id="my-demonstration"')[1].split("</ul>")[0]
    assert "企业研发投入奖励（示例）" in shown_apart and "满足示例条件" in shown_apart
    assert "测算" not in shown_apart and "最高" not in shown_apart  # no amount is offered
    assert "符合条件的事项 0 个" in mine


def test_the_seed_library_run_makes_no_candidate_and_sends_no_notice(cast):
    services.load_policy_library()
    demo.ensure_demo_enterprise()
    run = _run(cast["policy_kgsxj"], as_of=date(2026, 6, 30))
    assert run.status == "done", run.error
    shown = {code: row for code, row in run.by_item.items() if row["illustration"]}
    assert len(shown) == 27 and sum(row["pairs"] for row in shown.values()) > 0
    assert (run.pairs, run.candidates, Candidate.objects.count(), OutboxMessage.objects.count()) == (0, 0, 0, 0)


def test_candidates_a_database_already_holds_leave_the_loop_with_their_money_returned(relabelled):
    from importlib import import_module

    migration = import_module("yuexiu.policies.migrations.0006_set_aside_illustration_candidates")
    Publicity.objects.update(closed_at=None)  # as if still in its period
    assert _pool() == (22000000, 0)
    migration.set_aside(apps, None)
    assert set(_states().values()) == {"rejected"}
    assert _pool() == (0, 0)
    assert Publicity.objects.get().closed_at is not None
    note = Candidate.objects.get(pk=relabelled["demo"].pk).review_note
    assert note.startswith(NOTICE)
