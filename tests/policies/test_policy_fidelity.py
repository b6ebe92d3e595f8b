"""The seeded policy library equals its source, field by field (issue 12).

The source is ``shared/data/policies-guangzhou.yaml``: real Guangzhou support items restated from the
pages read, each document and item with a confidence mark. It is vendored as
``src/yuexiu/policies/data/policies-guangzhou.yaml`` (a clean clone has no ``../shared``), and the copy
must equal ``../shared`` wherever that exists. Every real policy document and item of the rule files
(what ``services.load_policy_library`` seeds) is compared with its source record: number, title,
issuer, dates, URL, confidence; each item's name, clause, beneficiaries, mode, award text and figures,
the kind of amount, the money in the amount and in the conditions, and every figure of the source's
conditions. Where the platform differs on purpose, the difference is in one of the lists below, each
with a one-line reason; nothing is skipped silently. Items are matched by position: source document
``id`` = policy code, its n-th item = item ``<code>-0n``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from yuexiu.core import money
from yuexiu.policies import services
from yuexiu.policies.engine import reference, testing
from yuexiu.policies.engine.attributes import to_engine_row
from yuexiu.policies.engine.rules import (
    CONFIDENCES,
    Amount,
    Compare,
    Condition,
    Group,
    Item,
    Manual,
    NotGranted,
    PolicyRules,
    manual_leaves,
    other_district_of,
)
from yuexiu.policies.models import BenefitItem, PolicyDocument

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "src" / "yuexiu" / "policies" / "data"
VENDORED = DATA / "policies-guangzhou.yaml"
ORGANISATIONS = REPO / "src" / "yuexiu" / "core" / "data" / "organisations.csv"


def shared_source() -> Path:
    """``shared/data/policies-guangzhou.yaml`` next to the repository (``/work/main`` → ``/work/shared``;
    a git worktree beside main finds the same directory)."""
    return REPO.parent / "shared" / "data" / "policies-guangzhou.yaml"


SOURCE: dict[str, Any] = yaml.safe_load(VENDORED.read_text(encoding="utf-8"))
DOCUMENTS: dict[str, dict[str, Any]] = {document["id"]: document for document in SOURCE["documents"]}
LIBRARY: list[PolicyRules] = testing.load_library(DATA / "rules")
REAL = [policy for policy in LIBRARY if not policy.illustration]
ITEMS: dict[str, tuple[PolicyRules, Item]] = {item.code: (policy, item) for policy in REAL for item in policy.items}

# ------------------------------------------------------------------------------------- deviations

# Source items deliberately not seeded: item key → reason. (None today: every real item is seeded.)
OMITTED: dict[str, str] = {}

# A mode the source leaves "unknown" is seeded as 申报: 免申即享 only where the text says so (the
# source's own rule), and the format has no third mode; an application with a pre-check is the safe path.
UNKNOWN_MODE = "申报"

# English words of the researchers' "not read (…)" clause notes, as the rule files say them.
CLAUSE_WORDS = {"summary": "摘要", "news summary": "新闻摘要", "interpretation": "政策解读"}

# Award texts that differ from the source's words (figures still checked): code → reason.
AWARD_TEXT = {
    "yx-finance-2019-01": "the source records in English that the award was not read; restated in Chinese",
    "yx-covid-2020-01": "the source's English note (award not read, city twin pays 50%) restated in Chinese",
    "th-hq-2020-02": "the source's '(a)/(b)' refer to its conditions; the text names them so it reads alone",
    "th-commerce-2025-02": "the source's '对应' refers to its thresholds; the text names them so it reads alone",
}

# Items with an award the source states but no amount in the rule (``incomplete``): code → reason.
INCOMPLETE = {
    "yx-diamond29-2018-03": "HKD capital × 5‰ paid in RMB: the exchange rate is not stated, cap scope ambiguous",
    "gz-hq-2018-01": "the four yearly tiers are given but their criteria were not read",
    "gz-covid-2020-01": "50% of new equipment investment, which is not in the registry, and no cap was read",
    "hd-fushang-2025-03": "5万 per incubated firm: the count is not in the registry and there is no cap",
    "ns-hq-2023-03": "the beneficiary is a person; personal contributions are not in the registry",
    "hz-newind-2019-01": "only the first growth tier was read; the contribution increment is not in the registry",
    "ns-biomed-2024-02": "the cap was not read and the foreign capital paid in is not in the registry",
}

# Items whose source amount is fixed (no ≤/最高) but the rule gives a ceiling (kind maximum): code → reason.
CEILING = {
    "gz-finance-2023-01": "three fixed tiers by IPO proceeds, which are not in the registry: the review picks the tier",
    "gz-hq-2018-02": "500元/㎡ × leased area; the area is not in the registry: ceiling 200万/year, review computes",
    "gz-hq-2018-03": "5% of the purchase price, not in the registry: ceiling 1000万, review computes",
    "th-hq-2020-01": "rate and cap depend on the year after settling and the zone, neither in the registry",
    "th-hq-2020-02": "branch (a) 5万 or (b) 1万 per 1000万 growth is decided by review: the larger is the ceiling",
    "th-keyent-01": "fixed and 'up to' tiers by rank, which only a department can establish",
    "hp-commerce-2022-01": "档A or 档B depends on growth (two attributes): the review picks the tier",
    "zc-ipo-2021-02": "100万 (新三板) or 30万 (广东股权交易中心): the venue is not in the registry",
    "ns-biomed-2024-01": "10% of the new fixed investment, not in the registry: ceiling 1亿, review computes",
    "gd-smallup-2025-01": "5万 per firm, 10万 when (b) and (c) both hold: the category is decided by review",
}

# Figures in a rule's amount that the source's award does not print: code → (figures, reason).
DERIVED_FIGURES = {
    "gd-smallup-2025-01": ({"10万"}, "two stacked 5万 awards: the source says (b) and (c) 可叠加"),
    "hd-commerce-2025-02": ({"0.1%"}, "每增加1亿元奖10万元 written as increment × 0.1%, rounded down per 10万元"),
    "hd-commerce-2025-03": ({"0.5%"}, "每增加1000万元奖5万元 written as increment × 0.5%, rounded down per 5万元"),
    "th-hq-2020-02": ({"1‰"}, "每增长1000万元奖1万元 written as increment × 1‰, rounded down to 万元"),
}

# Items whose rule gives one fixed ceiling although the source's award prints several amounts (a
# rate, a count, tiers): code → reason. Tiers are written as tiers; these are ceilings on purpose.
SINGLE_CEILING = {
    "yx-beijingroad-2020-01": "≤120万; the 一事一议 ≤200万 is a separate decision of 区委、区政府, not a rule",
    "yx-beijingroad-2020-02": "≤100万; the 一事一议 ≤150万 is a separate decision of 区委、区政府, not a rule",
    "gz-firststore-2024-01": "≤10万 per store brought in (the count is not in the registry) within 200万 a year",
    "th-commerce-2025-01": "≤1万 per 2000万 growth of one product line (not in the registry) within 100万 a year",
    "gd-12measures-2025-01": "≤35% of the loan interest (not in the registry) within 2000万; 2000亿 is the pool",
}

# The general rules a condition may cite as its ``source`` (not the item's clause): document → (URL,
# highest confidence we may claim, why). A condition's source must be one of these.
GENERAL_RULES = {
    "国发〔2016〕33号《国务院关于建立完善守信联合激励和失信联合惩戒制度加快推进社会诚信建设的指导意见》": (
        "http://www.cptp.org.cn/902.html",
        "L",
        "二、（十一）: 严重失信主体 are strictly restricted from applying for fiscal funds; only the mirror's "
        "opening was read, the clause is from memory: L until read on www.gov.cn",
    ),
}

# ------------------------------------------------------------------------------------- helpers


def norm(text: object) -> str:
    """Width, brackets, quotes and spaces as one: ``"（含）“小巨人”"`` == ``'(含)"小巨人"'``."""
    text = unicodedata.normalize("NFKC", str(text or ""))
    return re.sub(r"\s+", "", text.replace("“", '"').replace("”", '"').replace("‘", "'").replace("’", "'"))


_MULTIPLIERS = {"亿": Decimal(100_000_000), "万": Decimal(10_000), "千": Decimal(1000)}
_FIGURE_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(亿|万|千)?\s*(%|‰)?")


@dataclass(frozen=True)
class Figure:
    value: Decimal  # with 万/亿 applied
    mark: str  # "", "%" or "‰"

    def __str__(self) -> str:
        return f"{self.value.normalize():f}{self.mark}"


def figures(text: object) -> set[Figure]:
    """Every number of a text, with 万/亿 applied and % / ‰ kept: "≥15亿(含) → 500万元" →
    {1500000000, 5000000}. Dates give their parts (2020-01-10 → 2020, 1, 10)."""
    found = set()
    plain = re.sub(r"档\s*[0-9A-Z]", "档", unicodedata.normalize("NFKC", str(text or "")))  # "档1" names a tier
    for number, multiplier, mark in _FIGURE_RE.findall(plain):
        value = Decimal(number) * _MULTIPLIERS.get(multiplier, Decimal(1))
        found.add(Figure(value.normalize(), mark))
    return found


def figure(text: str) -> Figure:
    (only,) = figures(text)
    return only


def source_item(code: str) -> dict[str, Any]:
    policy, _, position = code.rpartition("-")
    return DOCUMENTS[policy]["items"][int(position) - 1]


def leaves(node: Condition) -> Iterable[Condition]:
    if isinstance(node, Group):
        for child in node.children:
            yield from leaves(child)
    else:
        yield node


def amount_texts(amount: Amount) -> list[str]:
    """The formulas of an amount as written (tier values included)."""
    texts = [expr.text for expr in (amount.formula, amount.per_month) if expr is not None]
    return texts + [tier.value.text for tier in amount.tiers]


def tier_leaves(amount: Amount | None) -> list[Condition]:
    return [leaf for tier in (amount.tiers if amount else []) for leaf in leaves(tier.when)]


def strip_remarks(text: str) -> tuple[str, str]:
    """``"广州市越秀区 (reprint; …)"`` → ``("广州市越秀区", "(reprint; …)")``: the trailing bracketed
    research remark apart."""
    match = re.match(r"^(.*?)\s*([(（][^()（）]*[)）])\s*$", text or "")
    return (match.group(1), match.group(2)) if match else (text or "", "")


def yuexiu_departments() -> set[str]:
    lines = ORGANISATIONS.read_text(encoding="utf-8").splitlines()[1:]
    return {line.split(",")[2] for line in lines if line.split(",")[3] == "department"}


def source_mode(record: dict[str, Any]) -> str:
    return {True: "免申即享", False: "申报"}.get(record["no_application"], UNKNOWN_MODE)


def codes_of(document_id: str) -> list[str]:
    return [f"{document_id}-{n:02d}" for n in range(1, len(DOCUMENTS[document_id]["items"]) + 1)]


ALL_SOURCE_ITEMS = [code for document_id in DOCUMENTS for code in codes_of(document_id)]
# The items checked one by one: every source item except those omitted on purpose (listed with a reason).
SEEDED_SOURCE_ITEMS = [code for code in ALL_SOURCE_ITEMS if code not in OMITTED]

# ------------------------------------------------------------------------------------- the source file


# SHA-256 of shared/data/policies-guangzhou.yaml as vendored: a clean clone (no ../shared) still proves the
# copy is the one the rules were checked against; a new source version means updating the copy, the
# rules and this digest together.
VENDORED_SHA256 = "a41c87528a2ea6c210c4c3b344da5c8dc0312eada0e40e0cd24b29037811c060"


def test_the_vendored_source_equals_shared_data():
    assert hashlib.sha256(VENDORED.read_bytes()).hexdigest() == VENDORED_SHA256
    shared = shared_source()
    if shared.exists():
        assert VENDORED.read_bytes() == shared.read_bytes(), "copy shared/data/policies-guangzhou.yaml here"


def test_the_source_is_the_one_described():
    assert (len(DOCUMENTS), len(ALL_SOURCE_ITEMS)) == (23, 51)
    assert {record.get("confidence") for document in DOCUMENTS.values() for record in document["items"]} <= set(
        CONFIDENCES
    )


# ------------------------------------------------------------------------------------- coverage


def test_every_source_item_is_seeded_or_omitted_with_a_reason_and_nothing_else_is_real():
    seeded = set(ITEMS)
    assert sorted(set(ALL_SOURCE_ITEMS) - seeded - set(OMITTED)) == []
    assert sorted(seeded - set(ALL_SOURCE_ITEMS)) == []  # no real item without a source record
    assert sorted(set(OMITTED) - set(ALL_SOURCE_ITEMS)) == []
    assert sorted({policy.code for policy in REAL} ^ set(DOCUMENTS)) == []
    assert all(len(policy.items) == len(DOCUMENTS[policy.code]["items"]) for policy in REAL)


def test_the_27_illustrations_are_exactly_the_items_the_source_does_not_have():
    illustrations = [item for policy in LIBRARY for item in policy.items if item.illustration or policy.illustration]
    assert len(illustrations) == 27
    source_names = {norm(record["name"]) for document in DOCUMENTS.values() for record in document["items"]}
    # The source marks no record as an illustration: every record is a real clause.
    assert all("illustration" not in record for document in DOCUMENTS.values() for record in document["items"])
    for item in illustrations:
        assert item.code not in ALL_SOURCE_ITEMS
        assert norm(item.name.removesuffix("（示例）")) not in source_names, item.code
        assert item.name.endswith("（示例）") and item.confidence == "U", item.code
    # Every illustration sits in a policy marked as one (shown as such), and no real policy has one.
    assert all(policy.illustration for policy in LIBRARY if any(item.illustration for item in policy.items))
    assert all(not item.illustration for policy in REAL for item in policy.items)


# ------------------------------------------------------------------------------------- documents


@pytest.mark.parametrize("code", sorted(DOCUMENTS))
def test_each_policy_document_equals_its_source(code: str):
    source = DOCUMENTS[code]
    policy = next(policy for policy in REAL if policy.code == code)
    assert policy.number == (source["number"] or "")
    assert norm(policy.title) == norm(source["title"])
    assert policy.effective == source["effective"]
    assert policy.expires == source["expires"]  # null stays null: not "open-ended"
    assert policy.source_url == source["source_url"]
    assert policy.confidence == source["confidence"]
    issuer, remark = strip_remarks(policy.issuer)
    source_issuer, source_remark = strip_remarks(source["issuer"])
    assert norm(issuer) == norm(source_issuer)
    assert bool(remark) == bool(source_remark)  # a research remark is kept (translated when English)
    if not re.search(r"[A-Za-z]", source_remark):
        assert norm(remark) == norm(source_remark)
    assert policy.other_district == other_district_of(source["issuer"])


# ------------------------------------------------------------------------------------- items


@pytest.mark.parametrize("code", SEEDED_SOURCE_ITEMS)
def test_each_item_equals_its_source_record(code: str):
    record = source_item(code)
    policy, item = ITEMS[code]
    assert norm(item.name) == norm(record["name"])
    assert norm(item.beneficiaries) == norm(record["beneficiaries"])
    assert item.mode == source_mode(record)
    assert item.confidence == record["confidence"]  # never higher, and not lowered without a reason
    assert not item.illustration
    clause = record["clause"]
    if clause.startswith("not read"):
        section = clause.removeprefix("not read").strip(" ()")
        expected = "未读到条号" + (f"（{CLAUSE_WORDS.get(section, section)}）" if section else "")
        assert norm(item.clause) == norm(expected)
    else:
        assert norm(item.clause) == norm(clause)
    if code in AWARD_TEXT:
        assert norm(item.award_text) != norm(record["award"]), f"listed deviation no longer needed: {code}"
    else:
        assert norm(item.award_text) == norm(record["award"])
    missing = figures(record["award"]) - figures(item.award_text)
    assert not missing, f"figures of the source's award missing: {sorted(map(str, missing))}"
    # The source names no handling department: another district's item names that district's body;
    # a Yuexiu, city or provincial item names the Yuexiu department that handles it (our assignment).
    if policy.other_district:
        assert other_district_of(item.department) == policy.other_district
    else:
        assert item.department in yuexiu_departments()


@pytest.mark.parametrize("code", SEEDED_SOURCE_ITEMS)
def test_each_items_amount_is_the_kind_and_the_figures_of_its_source(code: str):
    record = source_item(code)
    _, item = ITEMS[code]
    award = record["award"]
    not_read = award.startswith("not read")
    amounts = [version.amount for version in item.versions]
    if not_read or code in INCOMPLETE:
        assert item.incomplete and amounts == [None] * len(amounts), "an award not read must not be guessed"
        assert not not_read or code not in INCOMPLETE
        return
    assert not item.incomplete
    source_ceiling = "≤" in award or "最高" in award
    derived, _ = DERIVED_FIGURES.get(code, (set(), ""))
    allowed = figures(award) | {figure(text) for text in derived}
    for amount in amounts:
        assert amount is not None
        if amount.kind == "maximum":
            assert source_ceiling or code in CEILING, "a fixed amount must not become a ceiling without a reason"
        else:
            assert code not in CEILING, f"listed ceiling no longer needed: {code}"
            # An exact amount may still have the source's caps ("单个企业每年 ≤ 400万元"): each ≤ figure
            # is the rule's cap.
            for capped in re.findall(r"≤\s*([\d.]+\s*[万亿]?)", unicodedata.normalize("NFKC", award)):
                assert amount.cap == figure(capped).value, f"the source's cap ≤ {capped} is not the rule's cap"
        used = set().union(*(figures(text) for text in amount_texts(amount)))
        used |= figures(amount.rounding.unit) if amount.rounding and amount.rounding.amount else set()
        if amount.cap is not None:
            used.add(Figure(amount.cap.normalize(), ""))
        invented = used - allowed
        assert {figure(text) for text in derived} <= used, f"listed derived figures no longer used: {code}"
        assert not invented, f"figures the source's award does not print: {sorted(map(str, invented))}"
        # Every manual tier is a ceiling: the engine cannot pick a tier the data cannot decide.
        assert not any(manual_leaves(tier.when) for tier in amount.tiers) or amount.kind == "maximum"
        # Several amounts in the source are not folded into one ceiling (tiers stay tiers).
        amounts_printed = {f for f in figures(award) if not f.mark and f.value >= 10_000}
        one_constant = amount.formula is not None and not re.search(r"[a-z_]", amount.formula.text)
        if amount.kind == "maximum" and one_constant and len(amounts_printed) > 1:
            assert code in SINGLE_CEILING, "the source prints several amounts: write its tiers, not one ceiling"
        else:
            assert code not in SINGLE_CEILING, f"listed single ceiling no longer needed: {code}"


# ------------------------------------------------------------------------------------- conditions


def labels(node: Condition) -> Iterable[str]:
    yield node.label
    if isinstance(node, Group):
        for child in node.children:
            yield from labels(child)


def condition_text(item: Item) -> str:
    """Every label of the item's eligibility trees and amount tiers, as one text."""
    roots = [version.eligibility for version in item.versions]
    roots += [tier.when for version in item.versions if version.amount for tier in version.amount.tiers]
    return " ".join(label for root in roots for label in labels(root))


@pytest.mark.parametrize("code", SEEDED_SOURCE_ITEMS)
def test_each_items_conditions_are_those_of_its_source(code: str):
    record = source_item(code)
    policy, item = ITEMS[code]
    text = condition_text(item)
    # Presence: every figure of the source's conditions is in the rule's conditions.
    missing = set().union(*(figures(line) for line in record["conditions"])) - figures(text)
    assert not missing, f"source condition figures not in the rule: {sorted(map(str, missing))}"
    stated = set().union(
        *(figures(line) for line in record["conditions"]), figures(record["award"]), figures(record["beneficiaries"])
    )
    for version in item.versions:
        for leaf in [*leaves(version.eligibility), *tier_leaves(version.amount)]:
            if leaf.source is not None:
                # A condition the clause does not state cites a general rule, honestly marked.
                url, highest, _ = GENERAL_RULES[leaf.source.document]
                assert leaf.source.url == url and leaf.source.confidence == highest
                continue
            # No condition the source does not state: not "never/this year not granted", not the credit bar.
            assert not isinstance(leaf, NotGranted), f"“{leaf.label}” is not in the clause and cites no rule"
            if isinstance(leaf, Manual):
                continue
            assert isinstance(leaf, Compare)
            assert leaf.attr != "credit_status", f"“{leaf.label}” is not in the clause and cites no rule"
            if leaf.attr in ("district", "tax_district", "stats_district"):
                # The issuing area (a district's own policy) or the district that handles a city or
                # provincial item for its enterprises: the platform's scope, not an eligibility rule.
                assert leaf.value == (policy.other_district or "越秀区")
                continue
            if isinstance(leaf.value, Decimal):
                # A money threshold is one the source prints (no invented threshold).
                assert Figure(leaf.value.normalize(), "") in stated, f"“{leaf.label}”: {leaf.value} not in the source"


def yuan(text: str) -> Decimal:
    return money.read_yuan(text, maximum=None)


def _decide(code: str, period: int, **values: Any) -> Any:
    _, item = ITEMS[code]
    version = item.versions[0]
    context = reference.Context(period=period, as_of=date(period, 12, 31))
    return reference.decide(version, to_engine_row(values), context, code)


def test_the_awards_named_in_issue_12_read_as_their_clauses():
    # 穗府办规〔2025〕13号: firms newly recognised that year, not any holder of the tag never paid.
    old_giant = _decide(
        "gz-zjtx-2025-01",
        2026,
        district="越秀区",
        credit_status="良好",
        tags=["专精特新小巨人"],
        little_giant_on=date(2022, 9, 1),
    )
    new_giant = _decide(
        "gz-zjtx-2025-01",
        2026,
        district="越秀区",
        credit_status="良好",
        tags=["专精特新小巨人"],
        little_giant_on=date(2025, 7, 15),
    )
    assert (old_giant.eligible, new_giant.eligible, new_giant.amount_fen) == (False, True, 100_000_000)
    # 小微工业企业上规模: 5万 per firm in the 珠三角; 10万 only when (b) and (c) both hold.
    plain = _decide("gd-smallup-2025-01", 2025, district="越秀区", industry_code="3311", tags=["规模以上企业"])
    assert (plain.lead, plain.amount_fen) == (True, 5_000_000)
    stacked = [tier for tier in ITEMS["gd-smallup-2025-01"][1].versions[0].amount.tiers if "10万" in tier.value.text]
    assert [sorted(leaf.label[:3] for leaf in manual_leaves(tier.when)) for tier in stacked] == [["（b）", "（c）"]]
    # 天河 落户: 1亿 over three years; 1.5亿 only in 天河智慧城核心区 or 天河高新区.
    for tier in ITEMS["th-hq-2020-01"][1].versions[0].amount.tiers:
        in_zone = "智慧城核心区或天河高新区" in tier.when.label
        assert ("1.5亿元" in tier.value.text, "1亿元" in tier.value.text) == (in_zone, not in_zone), tier.when.label
    # 穗府规〔2023〕6号 IPO subsidy: three tiers by amount raised, not one ceiling.
    ipo = ITEMS["gz-finance-2023-01"][1].versions[0].amount
    assert [tier.value.text for tier in ipo.tiers] == ["500万元", "400万元", "300万元"]
    # 黄埔 档B's fourth band (≥1000亿) was not read: such a firm gets 档A's ceiling, never 档B's.
    huge = _decide(
        "hp-commerce-2022-01",
        2022,
        district="黄埔区",
        tax_district="黄埔区",
        stats_district="黄埔区",
        credit_status="良好",
        industry_code="5179",
        revenue=yuan("1000亿元"),
        district_contribution=yuan("1亿元"),
    )
    assert huge.amount_fen == 2_000_000_000  # min(1000亿 × 1‰, 1亿 × 20%, 5000万) = 2000万, not 档B's 4000万


def test_the_credit_bar_and_not_granted_conditions_of_real_items_all_cite_a_general_rule():
    credit = [
        (code, leaf)
        for code, (_, item) in ITEMS.items()
        for version in item.versions
        for leaf in leaves(version.eligibility)
        if isinstance(leaf, NotGranted) or (isinstance(leaf, Compare) and leaf.attr == "credit_status")
    ]
    assert all(leaf.source is not None and leaf.source.document in GENERAL_RULES for _, leaf in credit)
    assert not any(isinstance(leaf, NotGranted) for _, leaf in credit)  # no general rule found for these
    # The 22 items that carried an unsourced credit condition, and 黄埔's clause-stated 信用管理规定.
    assert len({code for code, _ in credit}) == 23


# ------------------------------------------------------------------------------------- the seeded database


@pytest.mark.django_db
def test_the_seeded_database_holds_the_rule_files_values(reference_data):
    services.load_policy_library()
    for policy in REAL:
        stored = PolicyDocument.objects.get(code=policy.code)
        source = DOCUMENTS[policy.code]
        assert (stored.number, stored.effective, stored.expires, stored.source_url, stored.confidence) == (
            source["number"] or "",
            source["effective"],
            source["expires"],
            source["source_url"],
            source["confidence"],
        )
        assert not stored.illustration
    for code, (_, item) in ITEMS.items():
        stored = BenefitItem.objects.get(code=code)
        record = source_item(code)
        assert (stored.mode, stored.confidence, stored.illustration) == (
            source_mode(record),
            record["confidence"],
            False,
        )
        assert (norm(stored.name), norm(stored.beneficiaries)) == (norm(record["name"]), norm(record["beneficiaries"]))
        assert stored.award_text == item.award_text and stored.incomplete == item.incomplete
    assert BenefitItem.objects.filter(illustration=True).count() == 27
