"""Every list endpoint of the JSON API answers ``count`` = the number of matches of its filters, whatever
``limit`` and ``offset`` are, and ``items`` = that page of the matches (issue 11 §3; one mechanism:
``core.pagination.paginate``)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.helpers import food_licence_uploads
from yuexiu.cases import services as case_services
from yuexiu.catalog.models import ServiceItem
from yuexiu.policies import services as policy_services

FROZEN = datetime(2025, 6, 18, 10, tzinfo=ZoneInfo("Asia/Shanghai"))

# (endpoint, filters, account that asks or None, how many match)
LISTS = [
    ("/api/v1/organisations", {"kind": "subdistrict"}, None, 18),
    ("/api/v1/catalog/items", {}, None, 38),  # the unsettled outdoor-advertising guide is not public
    ("/api/v1/catalog/items", {"q": "许可"}, None, 9),
    ("/api/v1/catalog/items", {"q": "公积金 退休"}, None, 2),
    ("/api/v1/cases", {}, "enterprise_demo", 3),
    ("/api/v1/cases", {"status": "submitted"}, "approver_scj", 3),
    ("/api/v1/audit-events", {"action": "case."}, "auditadmin", 3),
    ("/api/v1/policies/items", {"mode": "免申即享"}, None, 12),
]


@pytest.fixture
def lists(catalogue):
    """The seeded catalogue and policy library, and three food-licence applications by the demo enterprise
    (the second and third confirmed as repeat applications)."""
    policy_services.load_policy_library()
    food = ServiceItem.objects.get(seed_key="food-business-licence-new")
    for number in range(3):
        case_services.submit_application(
            item=food,
            applicant=catalogue["enterprise_demo"],
            idempotency_key=f"count-{number}",
            form_data={},
            uploads=food_licence_uploads(),
            confirm_repeat=number > 0,
        )
    return catalogue


@time_machine.travel(FROZEN, tick=False)
@pytest.mark.parametrize(("path", "filters", "account", "matches"), LISTS)
def test_count_is_the_number_of_matches_whatever_the_page(client, lists, path, filters, account, matches):
    if account:
        client.force_login(lists[account])
    everything = client.get(path, {**filters, "limit": 100}).json()
    assert everything["count"] == len(everything["items"]) == matches
    for limit, offset in [(1, 0), (1, 1), (2, matches - 1), (5, matches), (100, 1_000)]:
        page = client.get(path, {**filters, "limit": limit, "offset": offset}).json()
        assert page["count"] == matches, (limit, offset)
        assert page["items"] == everything["items"][offset : offset + limit]


@time_machine.travel(FROZEN, tick=False)
def test_a_search_page_loads_only_its_own_items(client, catalogue):
    client.get("/api/v1/catalog/items", {"q": "许可"})  # builds the search index once
    with CaptureQueriesContext(connection) as queries:
        body = client.get("/api/v1/catalog/items", {"q": "许可", "limit": 2, "offset": 3}).json()
    assert body["count"] == 9
    assert [item["name"] for item in body["items"]] == [
        "烟草专卖零售许可证核发（新办）",
        "城镇污水排入排水管网许可（排水许可）",
    ]
    assert len(queries) <= 5
