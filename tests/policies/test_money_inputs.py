"""Money typed by people, through the real pages: the approval amount, the payment registration and
a fund pool's budget in the rule file accept "30万元", "30 万", "300,000元"; ambiguous amounts are
refused in Chinese and nothing changes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from tests.helpers import at
from yuexiu.policies import services
from yuexiu.policies.models import BenefitItem, Candidate, CandidateStatus, Enterprise, FundPool, MatchRun

SHANGHAI = ZoneInfo("Asia/Shanghai")
RULES = Path(__file__).parent / "rules"
TEXT = (RULES / "loop-policy.yaml").read_text(encoding="utf-8")
DEMO_USCC = "91440104MA5CYX1KXU"


@pytest.fixture
def library(cast):
    with time_machine.travel(datetime(2026, 3, 10, 10, tzinfo=SHANGHAI), tick=False):
        services.load_policy_library(RULES)
        Enterprise.objects.create(
            uscc=DEMO_USCC,
            name="示范科技有限公司",
            district="越秀区",
            credit_status="良好",
            rd_expense=Decimal("1200000"),
        )
        yield cast


def _message(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def test_an_approval_amount_is_typed_with_its_unit(client, library):
    item = BenefitItem.objects.get(code="loop-test-2025-02")  # "最高50万元": the reviewer sets the amount
    candidate = services.apply(
        item_id=item.pk, user=library["enterprise_demo"], declarations=["门店为新开设的品牌首店"]
    )
    client.force_login(library["policy_kgsxj"])
    url = f"/workbench/policies/candidates/{candidate.pk}/approve/"
    for typed, message in [
        ("30万美元", "无法识别核定金额“30万美元”：只能填写人民币金额"),
        ("30万5000元", "无法识别核定金额“30万5000元”：应为“60万元”这样的金额"),
        ("3,00000", "无法识别核定金额“3,00000”：千分位逗号应每三位一组"),
        ("51万元", "核定金额不能超过上限 500,000.00元。"),
    ]:
        response = client.post(url, {"amount": typed, "note": "核定"}, follow=True)
        assert message in _message(response)
        candidate.refresh_from_db()
        assert (candidate.status, candidate.approved_fen) == (CandidateStatus.PENDING_REVIEW, None)
    response = client.post(url, {"amount": "30 万", "note": "按门店面积核定"}, follow=True)
    candidate.refresh_from_db()
    assert (candidate.status, candidate.approved_fen) == (CandidateStatus.APPROVED, 30000000)
    assert FundPool.objects.get(item=item).committed_fen == 30000000
    assert "可写 450000、45万元 或 450,000元" not in response.content.decode()  # the form is gone once approved


def test_a_payment_is_registered_with_the_amount_on_the_voucher(client, library):
    officer = library["policy_kgsxj"]
    run = MatchRun.objects.create(period=2026, as_of=date(2026, 3, 2), started_by=officer)
    services.execute_run(run.pk)
    candidate = Candidate.objects.get(enterprise__uscc=DEMO_USCC)  # 120,000.00元
    services.review(candidate_id=candidate.pk, user=officer, approve=True, amount_text="12万元")
    publicity = services.publish(item_id=candidate.item_id, user=officer, now=at("2026-03-02T10:00"))
    services.confirm_account(
        candidate_id=candidate.pk,
        user=library["enterprise_demo"],
        bank_name="中国工商银行广州越秀支行",
        account_holder="示范科技有限公司",
        bank_account="3602000109200123456",
    )
    with connection.cursor() as cursor:  # the account is sealed with SM4 at rest (GB/T 39786-2021)
        cursor.execute("SELECT bank_account FROM policies_candidate WHERE id = %s", [candidate.pk])
        stored = cursor.fetchone()[0]
    assert stored.startswith("sm4gcm:v") and "3602000109200123456" not in stored
    candidate.refresh_from_db()
    assert candidate.bank_account == "3602000109200123456"
    services.close_publicity(publicity_id=publicity.pk, user=officer, now=at("2026-03-09T09:00"))
    services.order_disbursement(candidate_id=candidate.pk, user=officer)
    client.force_login(officer)
    page = client.get(f"/workbench/policies/candidates/{candidate.pk}/").content.decode()
    assert "须与拨付单 120,000.00元 一致" in page
    url = f"/workbench/policies/candidates/{candidate.pk}/pay/"
    for typed, message in [
        ("11万元", "实付金额 110,000.00元 与拨付单金额 120,000.00元 不一致，请核对国库支付凭证。"),
        ("12,0000", "无法识别实付金额“12,0000”：千分位逗号应每三位一组"),
        ("", "请填写实付金额"),
    ]:
        response = client.post(url, {"reference": "GK2026031000001", "amount": typed}, follow=True)
        assert message in _message(response)
        candidate.refresh_from_db()
        assert candidate.status == CandidateStatus.ORDERED
    client.post(url, {"reference": "GK2026031000001", "amount": "120,000元"})
    candidate.refresh_from_db()
    pool = FundPool.objects.get(item=candidate.item)
    assert (candidate.status, pool.committed_fen, pool.paid_fen) == (CandidateStatus.PAID, 0, 12000000)


def test_a_fund_pool_budget_is_typed_with_its_unit_in_the_rule_file(client, library):
    client.force_login(library["policy_kgsxj"])
    url = "/workbench/policies/rules/loop-test-2025/"
    refused = client.post(url, {"text": TEXT.replace("budget: 25万元", "budget: '30'")})
    assert refused.status_code == 400
    assert "无法识别budget（资金预算）“30”：未注明单位，请写成“30万元”或“30元”" in refused.content.decode()
    assert FundPool.objects.get(item__code="loop-test-2025-01").budget_fen == 25000000
    saved = client.post(url, {"text": TEXT.replace("budget: 25万元", "budget: 30 万")})
    assert saved.status_code == 302
    assert FundPool.objects.get(item__code="loop-test-2025-01").budget_fen == 30000000
    client.post(url, {"text": TEXT.replace("budget: 25万元", "budget: '300,000元'")})
    assert FundPool.objects.get(item__code="loop-test-2025-01").budget_fen == 30000000
    client.post(url, {"text": TEXT.replace("budget: 25万元", "budget: 0.4亿元")})
    assert FundPool.objects.get(item__code="loop-test-2025-01").budget_fen == 4000000000
