"""Bundles whose constituent matters no source names (issue 11 §3): the seed invents none, and every
public surface says plainly that the items are still being compiled (整理中) instead of showing an
empty list, "0 个事项" or an apply button that cannot work.

Six of the 13 bundles of the 2024 first batch have no named matters in the national or Guangdong
material we hold (data/one-thing-2024.yaml; domain/rules.md §3 lists only the bundle names and
新生儿出生一件事's matters)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from yuexiu.catalog import seed
from yuexiu.catalog.models import ServiceBundle

WITHOUT_NAMED_MATTERS = {
    "enterprise-info-change": "企业信息变更一件事",
    "transport-company-opening": "开办运输企业一件事",
    "bankruptcy-info-check": "企业破产信息核查一件事",
    "listing-compliance-check": "企业上市合法合规信息核查一件事",
    "utilities-joint-connection": "水电气网联合报装一件事",
    "school-enrolment": "教育入学一件事",
}
TRANSPORT = "kai-ban-yun-shu-qi-ye-yi-jian-shi"
COMPILING = "所含事项整理中：国家和广东已公布的资料列出了这件“一件事”，但尚未列出它包含哪些具体事项"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(datetime(2025, 6, 18, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield


def test_the_seed_links_exactly_the_matters_each_source_names_and_invents_none(catalogue):
    records = {record["id"]: record for record in seed._read(seed.BUNDLES_FILE)["bundles"]}
    mapping = seed._read(seed.MAPPING_FILE)["bundle_matters"]
    for bundle in ServiceBundle.objects.all():
        named = records[bundle.seed_key].get("constituent_matters") or []
        # a matter the record does not name carries its own source (军人退役一件事's core matters, from
        # 退役军人保障法); tests/test_catalog_fidelity.py lists each with its reason
        sourced = [matter for matter in mapping.get(bundle.seed_key, []) if matter.get("source")]
        assert all(matter["source"]["url"] and matter["source"]["note"] for matter in sourced)
        assert bundle.bundleitem_set.count() == len(named) + len(sourced), bundle.name
    empty = {bundle.seed_key: bundle.name for bundle in ServiceBundle.objects.filter(bundleitem__isnull=True)}
    assert empty == WITHOUT_NAMED_MATTERS
    assert all(not records[key].get("constituent_matters") for key in WITHOUT_NAMED_MATTERS)


def test_a_bundle_page_without_items_says_they_are_being_compiled_and_offers_no_apply_button(client, catalogue):
    client.force_login(catalogue["citizen_demo"])
    page = client.get(f"/services/bundles/{TRANSPORT}/").content.decode()
    assert COMPILING in page
    assert "<dt>所含事项</dt><dd>整理中</dd>" in page
    assert 'id="bundle-items"' not in page
    assert 'id="bundle-apply-link"' not in page
    assert "在线申请" not in page
    assert (
        'id="bundle-apply-link"' in client.get("/services/bundles/xin-sheng-er-chu-sheng-yi-jian-shi/").content.decode()
    )


def test_the_apply_address_of_such_a_bundle_leads_back_to_its_page_with_the_reason(client, catalogue):
    client.force_login(catalogue["citizen_demo"])
    response = client.get(f"/services/bundles/{TRANSPORT}/apply/", follow=True)
    assert response.redirect_chain == [(f"/services/bundles/{TRANSPORT}/", 302)]
    assert "“开办运输企业一件事”所含事项整理中，暂不受理网上申请。" in response.content.decode()


def test_the_portal_home_lists_such_bundles_as_being_compiled_not_as_0_items(client, catalogue):
    page = client.get("/services/").content.decode()
    assert page.count("所含事项整理中") == 6
    assert "0 个事项" not in page


def test_the_api_marks_the_bundles_whose_items_are_being_compiled(client, catalogue):
    listing = client.get("/api/v1/catalog/bundles").json()
    assert {bundle["name"] for bundle in listing if bundle["items_compiling"]} == set(WITHOUT_NAMED_MATTERS.values())
    assert all(bundle["item_count"] == 0 for bundle in listing if bundle["items_compiling"])
    detail = client.get(f"/api/v1/catalog/bundles/{TRANSPORT}").json()
    assert (detail["items"], detail["items_compiling"]) == ([], True)
    newborn = client.get("/api/v1/catalog/bundles/xin-sheng-er-chu-sheng-yi-jian-shi").json()
    assert newborn["items_compiling"] is False
