"""Demo data for `yuexiu setup --demo`: a synthetic registry (marked as such), the demo enterprise's
own record, and one finished matching run so the pages have candidates to show."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.utils import timezone

from yuexiu.core.models import User
from yuexiu.policies import services
from yuexiu.policies.models import Enterprise, MatchRun

DEMO_REGISTRY_SIZE = 5000
DEMO_ENTERPRISE_USCC = "91440104MA5CYX1KXU"


def ensure_demo_enterprise() -> Enterprise:
    """The registry record of the demo enterprise account (a mid-size Yuexiu software firm)."""
    year = timezone.localdate().year
    enterprise, _ = Enterprise.objects.get_or_create(
        uscc=DEMO_ENTERPRISE_USCC,
        defaults={
            "name": "广州越秀示范科技有限公司（模拟）",
            "district": "越秀区",
            "subdistrict": "洪桥街道",
            "tax_district": "越秀区",
            "stats_district": "越秀区",
            "industry_code": "6513",
            "enterprise_type": "有限责任公司",
            "foreign_invested": False,
            "established_on": date(2016, 5, 10),
            "settled_on": date(2016, 5, 10),
            "registered_capital": Decimal("10000000.00"),
            "paid_in_capital": Decimal("10000000.00"),
            "capital_currency": "CNY",
            "employees": 86,
            "insured_employees_monthly": [80, 81, 82, 82, 83, 84, 84, 85, 85, 86, 86, 86],
            "revenue": Decimal("52000000.00"),
            "revenue_prev": Decimal("41000000.00"),
            "tax_paid": Decimal("3100000.00"),
            "district_contribution": Decimal("620000.00"),
            "rd_expense": Decimal("4800000.00"),
            "tags": ["高新技术企业", "专精特新中小企业", "规模以上企业", "软件和信息技术服务企业", "创新型中小企业"],
            "credit_status": "良好",
            "is_synthetic": True,
            "source": f"演示企业（模拟数据，{year}）",
        },
    )
    return enterprise


def load_demo_registry() -> list[str]:
    lines = []
    if not Enterprise.objects.filter(is_synthetic=True).exclude(uscc=DEMO_ENTERPRISE_USCC).exists():
        created = services.generate_registry(DEMO_REGISTRY_SIZE, seed=2024)
        lines.append(f"模拟企业库：新增 {created} 家（名称带“（模拟）”）")
    ensure_demo_enterprise()
    officer = User.objects.filter(username="policy_kgsxj").first()
    if officer is not None and not MatchRun.objects.exists():
        today = timezone.localdate()
        run = MatchRun.objects.create(period=today.year, as_of=today, started_by=officer, stage="演示数据")
        run = services.execute_run(run.pk)
        lines.append(
            f"演示匹配批次：{run.enterprises} 家企业，{run.pairs} 个符合条件的企业-事项对，"
            f"{run.candidates} 个免申即享候选，另有 {run.leads} 个申报线索（须主管部门认定）"
        )
    return lines
