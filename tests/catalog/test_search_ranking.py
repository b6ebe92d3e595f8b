"""Search over Yuexiu's seeded catalogue through the API and the portal page: words in another order,
several words, short forms, one wrong character (issue 11 §3), and the exact ranking of a handful of
queries so a change to the search core shows what it moves."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(datetime(2025, 6, 18, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield


def found(client, query: str) -> list[str]:
    body = client.get("/api/v1/catalog/items", {"q": query, "limit": 100}).json()
    assert body["count"] == len(body["items"])
    return [item["name"] for item in body["items"]]


def test_gongjijin_tiqu_finds_the_retirement_withdrawal_although_the_words_are_the_other_way_round(client, catalogue):
    assert found(client, "公积金提取") == ["退休提取住房公积金"]


def test_two_words_find_the_items_that_have_both(client, catalogue):
    assert found(client, "公积金 退休") == [
        "退休提取住房公积金",  # both words in the name
        "住房公积金个人账户封存",  # 公积金 in the name, 退休 in its bundle 退休一件事
    ]


def test_one_wrong_character_finds_the_birth_certificate(client, catalogue):
    assert found(client, "出身证明") == ["出生医学证明（首次签发）"]


def test_the_short_form_shebaoka_finds_the_social_security_card_bundle_on_the_page(client, catalogue):
    page = client.get("/services/search/", {"q": "社保卡"}).content.decode()
    bundles = re.search(r'<ul class="result-list" id="bundle-results">(.*?)</ul>', page, re.S)
    assert bundles is not None
    assert re.findall(r">([^<>]+)</a>", bundles.group(1)) == ["社会保障卡居民服务“一卡通”一件事"]
    assert found(client, "社保卡") == ["社会保障卡申领"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # exact or prefix first, then the name holding the word, then items whose bundle carries it
        ("出生", ["出生医学证明（首次签发）", "国（境）内出生登记", "社会保障卡申领"]),
        ("退休", ["退休提取住房公积金", "企业职工基本养老保险正常退休申请", "企业职工基本养老保险提前退休申请"]),
        ("许可", ["食品经营许可（新办）", "公共场所卫生许可", "建筑工程施工许可证核发"]),
        ("食品经营许可", ["食品经营许可（新办）"]),
        ("jzz", ["居住证申领"]),
        ("shebaoka", ["社会保障卡申领"]),
        ("低保", ["最低生活保障审批（审核确认）", "城乡居民基本养老保险参保登记"]),
    ],
)
def test_the_top_results_of_common_queries(client, catalogue, query, expected):
    assert found(client, query)[: len(expected)] == expected


def test_the_page_says_how_many_items_match_and_that_it_shows_the_first_twenty(client, catalogue):
    page = client.get("/services/search/", {"q": "许可"}).content.decode()
    assert "“许可”：找到 0 个一件事、9 个事项。" in page
    page = client.get("/services/search/", {"q": "局"}).content.decode()  # every department's items
    assert "“局”：找到 0 个一件事、34 个事项，显示最相关的前 20 个。" in page
    assert page.count('<li><a href="/services/items/') == 20
