"""The dated rule table (``core/data/rules.yaml``) says what its sources say.

Each ``Fact`` below is one row of the table as the source states it: its value, the confidence the source
gives it, the document its ``source_document`` must cite and the URL it must give, and the passages of
the source (``../shared/domain/rules.md`` or ``../shared/data/*.yaml``) that state the fact. The rows
are checked against the facts in every checkout; the passages are checked against the source files
wherever they are present (``/work/main`` → ``/work/shared``; a clean clone has no ``../shared``), so
that neither the table nor our reading of the source can drift without a test failing.

A fact the source marks [U] (looked for, not found) is a row of confidence U whose ``source_document``
says the value is the platform's own default; its value is ours and is not checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from yuexiu.core.models import RuleParameter
from yuexiu.core.rules import RULES_DATA

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
# Vendored copies of the sources, so a clean clone (no ../shared) checks the same passages; where
# ../shared is present each copy must equal it (test_the_vendored_sources_equal_shared).
RULES_MD = REPO / "tests" / "sources" / "rules.md"
POLICIES_GUANGZHOU = REPO / "src" / "yuexiu" / "policies" / "data" / "policies-guangzhou.yaml"
VENDORED = {RULES_MD: SHARED / "domain" / "rules.md", POLICIES_GUANGZHOU: SHARED / "data" / "policies-guangzhou.yaml"}
ANY = object()  # a value the source does not set (confidence U: the platform's own default)
PLATFORM_DEFAULT = "平台默认值"


@dataclass(frozen=True)
class Fact:
    key: str
    effective_from: date
    value: Any
    confidence: str
    cites: tuple[str, ...]  # what source_document must contain
    url: str
    source: Path = RULES_MD
    passages: tuple[str, ...] = field(default=())  # verbatim in ``source``


GD_2019_URL = "http://www.gd.gov.cn/zwgk/zcjd/mtjd/content/post_2585577.html"
GD_2020_URL = "https://lotussunrise.com/zwgk/wjk/qbwj/ybh/content/post_2911552.html"
GUOBAN_51_URL = "https://zh.wikisource.org/zh-hant/国务院办公厅关于建立政务服务“好差评”制度提高政务服务水平的意见"
DEFAULT_2019 = (
    '**If no rating is given within 7 natural days after service, it defaults to "基本满意"** (2019 trial version',
    "[H for the GD 2019 rule] " + GD_2019_URL,
)
REPLACED_2020 = (
    "**粤办函〔2019〕274号** (2019-08-09) → replaced by "
    '《广东省政务服务"好差评"管理办法》 **粤办函〔2020〕21号** (2020-02-19)',
    "Whether the 2020 version keeps this is **[U]**",
    GD_2020_URL,
)
RATER_APPEAL = (
    "signed 2019-12-03",
    "Raters can appeal (申诉复核机制).",
    "Guangdong numeric deadlines for 差评 signing, verification and rectification are **[U]**",
)

FACTS = [
    Fact(
        "ratings.default_after_days",
        date(2019, 8, 9),
        7,
        "H",
        ("粤办函〔2019〕274号",),
        GD_2019_URL,
        passages=DEFAULT_2019,
    ),
    Fact(
        "ratings.default_level", date(2019, 8, 9), 3, "H", ("粤办函〔2019〕274号",), GD_2019_URL, passages=DEFAULT_2019
    ),
    # 粤办函〔2020〕21号 replaced the trial on 2020-02-19; whether it keeps the default is unknown.
    Fact(
        "ratings.default_after_days",
        date(2020, 2, 19),
        ANY,
        "U",
        ("粤办函〔2020〕21号", "未查到"),
        GD_2020_URL,
        passages=REPLACED_2020,
    ),
    Fact(
        "ratings.default_level",
        date(2020, 2, 19),
        ANY,
        "U",
        ("粤办函〔2020〕21号", "未查到"),
        GD_2020_URL,
        passages=REPLACED_2020,
    ),
    # Guangdong's 差评 deadlines are unknown; Ruzhou's and Dezhou's are quoted for comparison, not used.
    Fact(
        "ratings.rectification_step_days",
        date(2020, 2, 19),
        ANY,
        "U",
        (PLATFORM_DEFAULT, "粤办函〔2020〕21号", "取值与之不同"),
        GD_2020_URL,
        passages=(
            "Guangdong numeric deadlines for 差评 signing, verification and rectification are **[U]**",
            "contact rater within **1 WD**; simple case fixed and answered within **2 WD**; "
            "complex case within **3 WD**",
            "差评 fixed and answered within **5 working days**",
        ),
    ),
    # The rater's appeal exists (国办发〔2019〕51号, signed 2019-12-03); its periods are nowhere.
    Fact(
        "ratings.review_request_days",
        date(2019, 12, 3),
        ANY,
        "U",
        (PLATFORM_DEFAULT, "国办发〔2019〕51号"),
        GUOBAN_51_URL,
        passages=RATER_APPEAL,
    ),
    Fact(
        "ratings.review_decision_days",
        date(2019, 12, 3),
        ANY,
        "U",
        (PLATFORM_DEFAULT, "国办发〔2019〕51号"),
        GUOBAN_51_URL,
        passages=RATER_APPEAL,
    ),
    # One notice per row, its objection text as the source records it (full-width punctuation).
    Fact(
        "policies.objection_rule",
        date(2020, 9, 21),
        "公示期内书面异议；单位须盖公章、个人须签真实姓名并写明理由和联系方式；不按要求提出的不受理。",
        "H",
        ("广州市天河区发展和改革局", "2020-09-21 至 2020-09-25"),
        "http://0559rc.com/zjth/tzth/zsyz/gsgg/content/post_6817059.html",
        source=POLICIES_GUANGZHOU,
        passages=(
            "issuer: 广州市天河区发展和改革局",
            "period: 2020-09-21 至 2020-09-25(5个工作日)",
            "objection: 公示期内书面异议;单位须盖公章、个人须签真实姓名并写明理由和联系方式;不按要求提出的不受理",
        ),
    ),
    # No general rule sets the 公示 period (rules.md §7 [U]): the platform's default, citing one notice.
    Fact(
        "policies.publicity_working_days",
        date(2020, 9, 21),
        5,
        "U",
        (PLATFORM_DEFAULT, "广州市天河区发展和改革局", "2020-09-21 至 2020-09-25"),
        "http://0559rc.com/zjth/tzth/zsyz/gsgg/content/post_6817059.html",
        source=POLICIES_GUANGZHOU,
        passages=(
            "None is a general rule; each is one notice's practice.",
            "issuer: 广州市天河区发展和改革局",
            "period: 2020-09-21 至 2020-09-25(5个工作日)",
        ),
    ),
    Fact(
        "policies.objection_rule",
        date(2025, 11, 14),
        "公示期内书面反映（工作日 9:00–12:00 送达）；个人须实名并附联系方式和证明材料；单位须加盖公章并写明联系人。",
        "H",
        ("广州市工业和信息化局", "2025-11-14"),
        "https://www.chacewang.com/newsdetail/news895541.html",
        source=POLICIES_GUANGZHOU,
        passages=(
            "issuer: 广州市工业和信息化局",
            "period: 2025-11-14 至 2025-11-20(7个自然日,含5个工作日)",
            "objection: 公示期内书面反映(工作日 9:00–12:00 送达);"
            "个人须实名并附联系方式和证明材料;单位须加盖公章并写明联系人",
        ),
    ),
]
# Keys whose every row must be listed above (no row of these keys escapes the check).
CHECKED_KEYS = {fact.key for fact in FACTS} | {"audit.log_retention_min_days"}
PUBLICITY_ISSUERS = ("广州市工业和信息化局", "广州市天河区发展和改革局", "广东省科学技术厅")


def _rows() -> list[dict[str, Any]]:
    return yaml.safe_load(RULES_DATA.read_text(encoding="utf-8"))


def _row(key: str, effective_from: date) -> dict[str, Any]:
    [row] = [row for row in _rows() if row["key"] == key and row["effective_from"] == effective_from]
    return row


@pytest.mark.parametrize("fact", FACTS, ids=lambda fact: f"{fact.key}@{fact.effective_from}")
def test_each_row_says_what_its_source_says(fact):
    row = _row(fact.key, fact.effective_from)
    if fact.value is not ANY:
        assert row["value"] == fact.value
    assert row["confidence"] == fact.confidence
    for cited in fact.cites:
        assert cited in row["source_document"]
    assert row["source_url"] == fact.url
    if fact.confidence == "U":
        assert "待核实" in row["source_document"] or PLATFORM_DEFAULT in row["source_document"]
        assert PLATFORM_DEFAULT in row["note"] or PLATFORM_DEFAULT in row["source_document"]


@pytest.mark.parametrize("fact", FACTS, ids=lambda fact: f"{fact.key}@{fact.effective_from}")
def test_the_source_still_states_each_fact(fact):
    text = fact.source.read_text(encoding="utf-8")
    for passage in (*fact.passages, fact.url):
        assert passage in text, f"{fact.source.name} no longer says: {passage}"


def test_the_vendored_sources_equal_shared():
    for vendored, shared in VENDORED.items():
        assert vendored.exists()
        if shared.exists():
            assert vendored.read_bytes() == shared.read_bytes(), f"copy {shared} to {vendored}"


def test_every_row_of_the_checked_keys_is_a_listed_fact():
    listed = {(fact.key, fact.effective_from) for fact in FACTS} | {("audit.log_retention_min_days", date(2017, 6, 1))}
    rows = {(row["key"], row["effective_from"]) for row in _rows() if row["key"] in CHECKED_KEYS}
    assert rows == listed


def test_each_objection_row_is_its_notices_text_in_full_width_punctuation():
    for fact in FACTS:
        if fact.key == "policies.objection_rule":
            [objection] = [passage.removeprefix("objection: ") for passage in fact.passages if "objection: " in passage]
            full_width = objection.translate(str.maketrans({";": "；", "(": "（", ")": "）"}))
            assert fact.value == full_width + "。"


def test_each_objection_and_publicity_row_cites_one_notice():
    for row in _rows():
        if row["key"] in ("policies.objection_rule", "policies.publicity_working_days"):
            assert sum(issuer in row["source_document"] for issuer in PUBLICITY_ISSUERS) == 1, row["source_document"]


def test_six_months_of_network_logs_are_at_most_184_days_and_the_row_keeps_that_many():
    # 《网络安全法》第二十一条（三）: 留存相关的网络日志不少于六个月. The longest six calendar months (July to
    # December) are 184 days, so 184 days keep every entry six months whatever day it was written.
    def six_months_later(day: date) -> date:
        month = day.month + 6
        year, month = day.year + (month - 1) // 12, (month - 1) % 12 + 1
        for candidate in range(day.day, 27, -1):  # the 31st of a shorter month: its last day
            try:
                return date(year, month, candidate)
            except ValueError:
                continue
        return date(year, month, day.day)

    start = date(2024, 1, 1)
    longest = max((six_months_later(day) - day).days for day in (start + timedelta(days=n) for n in range(4 * 366)))
    assert longest == 184
    row = _row("audit.log_retention_min_days", date(2017, 6, 1))
    assert (row["value"], row["confidence"]) == (longest, "H")
    assert "第二十一条" in row["source_document"] and "六个月" in row["source_document"]


def test_every_row_fits_the_table_and_loads(db):
    limits = {name: RuleParameter._meta.get_field(name).max_length for name in ("unit", "source_document", "note")}
    limits["source_url"] = RuleParameter._meta.get_field("source_url").max_length
    for row in _rows():
        for name, limit in limits.items():
            assert len(row.get(name) or "") <= limit, (row["key"], row["effective_from"], name)
        assert row["confidence"] in {"H", "M", "L", "U"}


def test_an_installation_holding_the_earlier_rows_gets_them_corrected_unless_an_administrator_changed_them(db):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("yuexiu.core.migrations.0012_rule_rows_corrected_from_sources")
    for (key, effective_from), (value, source_document) in migration.EARLIER.items():
        RuleParameter.objects.create(
            key=key, effective_from=effective_from, value=value, source_document=source_document, confidence="M"
        )
    # An administrator set their own objection text: theirs to keep.
    RuleParameter.objects.filter(key="policies.objection_rule").update(value="区科工商信局自定的异议方式")
    migration.correct_rows(apps, None)
    audit_row = RuleParameter.objects.get(key="audit.log_retention_min_days")
    assert (audit_row.value, audit_row.confidence) == (184, "H") and "184" in audit_row.note
    steps = RuleParameter.objects.get(key="ratings.rectification_step_days")
    assert steps.confidence == "U" and steps.source_document.startswith(PLATFORM_DEFAULT)
    assert RuleParameter.objects.get(key="policies.objection_rule").value == "区科工商信局自定的异议方式"
    migration.correct_rows(apps, None)  # a second run changes nothing
    assert RuleParameter.objects.get(key="audit.log_retention_min_days").value == 184
