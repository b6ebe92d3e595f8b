"""Importing the registry through the service: matched on the 统一社会信用代码, only the file's
columns change a stored enterprise, a bad file imports nothing, a name clash is reported."""

from __future__ import annotations

from decimal import Decimal

import pytest

from yuexiu.core.errors import DomainError, PermissionDeniedError
from yuexiu.core.models import AuditEvent
from yuexiu.policies import registry, services
from yuexiu.policies.models import Enterprise

OTHER = "91440104MA5D00002" + registry.uscc_check_digit("91440104MA5D00002")
HEADER = "统一社会信用代码,企业名称,注册地所在区,所在街道,注册资本,上年度营业收入（万元）,企业标签\n"


def test_a_gb18030_file_creates_then_updates_only_its_columns(cast):
    officer = cast["policy_kgsxj"]
    first = HEADER + "91440104MA5CYX1KXU,广州示范科技有限公司,越秀区,洪桥街道,2029(万人民币元),5200,高新技术企业\n"
    report = services.import_registry(data=first.encode("gb18030"), filename="第一批.csv", user=officer)
    assert (report["created"], report["updated"], report["name_clashes"]) == (1, 0, [])
    enterprise = Enterprise.objects.get(uscc="91440104MA5CYX1KXU")
    assert (enterprise.registered_capital, enterprise.capital_currency) == (Decimal("20290000.00"), "CNY")
    assert (enterprise.revenue, enterprise.tags) == (Decimal("52000000.00"), ["高新技术企业"])
    # A later file with fewer columns leaves the others as they were.
    second = "统一社会信用代码,企业名称,从业人数\n91440104MA5CYX1KXU,广州示范科技有限公司,88\n"
    report = services.import_registry(data=("\ufeff" + second).encode("utf-8"), filename="第二批.csv", user=officer)
    assert (report["created"], report["updated"]) == (0, 1)
    enterprise.refresh_from_db()
    assert (enterprise.employees, enterprise.revenue, enterprise.subdistrict) == (
        88,
        Decimal("52000000.00"),
        "洪桥街道",
    )
    assert AuditEvent.objects.filter(action="policies.registry_imported").count() == 2


def test_a_bad_row_imports_nothing_and_a_name_clash_is_reported(cast):
    officer = cast["data_officer"]
    Enterprise.objects.create(uscc="91440104MA5CYX1KXU", name="广州示范科技有限公司")
    bad = HEADER + "91440104MA5CYX1KXA,甲公司,越秀区,洪桥街道,50(万元人民币),1,\n"
    with pytest.raises(DomainError, match="第2行 统一社会信用代码"):
        services.import_registry(data=bad.encode(), filename="bad.csv", user=officer)
    assert Enterprise.objects.count() == 1
    clash = HEADER + f"{OTHER},广州示范科技有限公司,越秀区,洪桥街道,N/A,1,\n"
    report = services.import_registry(data=clash.encode(), filename="clash.csv", user=officer)
    assert report["created"] == 1 and "91440104MA5CYX1KXU" in report["name_clashes"][0]
    with pytest.raises(DomainError, match="无法导入"):
        services.import_registry(data="企业名称\n甲\n".encode(), filename="x.csv", user=officer)
    with pytest.raises(PermissionDeniedError):
        services.import_registry(data=clash.encode(), filename="clash.csv", user=cast["window_centre"])


def test_a_number_too_large_for_any_enterprise_is_refused_with_its_row(cast):
    data = "统一社会信用代码,企业名称,从业人数\n91440104MA5CYX1KXU,示范,3000000000\n"
    with pytest.raises(DomainError, match="第2行 从业人数：从业人数“3000000000”过大"):
        services.import_registry(data=data.encode(), filename="big.csv", user=cast["data_officer"])
    assert not Enterprise.objects.exists()
