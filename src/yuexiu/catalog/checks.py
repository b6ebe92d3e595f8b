"""Guide checks (同事同标): a rule set over guide documents that reports each finding with its rule,
the element and the item. Pure module: plain inputs, plain outputs, no Django import.

The rules and their sources:

- ``required_element_missing``: the 办事指南 element list (domain/rules.md §4.3; the list itself is
  the dated rule parameter ``catalog.guide_required_elements``).
- ``promised_limit_exceeds_statutory``: a promised limit may only shorten the statutory one
  (国发〔2024〕3号 on 减时限; 行政许可法 第四十二条 for licensing).
- ``legal_basis_without_article``: 设定依据 must name the article (element list, §4.3).
- ``replaceable_material_required``: materials that shared data or an electronic licence replaces
  must not be demanded again (市场主体登记管理条例 第十六条; 国发〔2024〕3号 一套材料).
- ``fee_without_basis``: a fee needs its legal basis (收费依据, §4.3).
- ``inconsistent_across_organisations``: the same item (same 基本编码) implemented by several
  organisations must carry the same standard elements (同事同标).
- ``unresolved_source_conflict``: where the sources of a seeded or imported value disagree, an editor
  must check and confirm the value; until then the guide says so (it never chooses silently).
- ``unverified_caveat``: a source says a fact of the guide is open (the outdoor-advertising text may
  predate 2014 and district issuance is unconfirmed, guides-guangdong.yaml ``caveat``); the guide is
  not published as settled until an editor has checked it (blocking, see catalog.services).
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from yuexiu.catalog.content import ELEMENT_LABELS, STANDARDISED_ELEMENTS

RULE_LABELS: dict[str, str] = {
    "required_element_missing": "必填要素缺失",
    "promised_limit_exceeds_statutory": "承诺时限超过法定时限",
    "legal_basis_without_article": "设定依据未列明条款",
    "replaceable_material_required": "可由共享数据或电子证照替代的材料仍要求提交",
    "fee_without_basis": "收费无收费依据",
    "inconsistent_across_organisations": "同一事项不同实施主体的指南不一致",
    "unresolved_source_conflict": "来源冲突未核实",
    "unverified_caveat": "有待核实事项",
}

ITEM_ELEMENTS = ("name", "base_code", "implementation_code", "item_type", "exercise_level", "organisation")


@dataclass(frozen=True)
class CheckedGuide:
    """One guide to check: the item's identity and its guide document (``GuideContent`` as a dict)."""

    key: str
    name: str
    base_code: str
    implementation_code: str
    item_type: str
    exercise_level: str
    organisation_code: str
    organisation_name: str
    content: dict[str, Any]


@dataclass(frozen=True)
class Evidence:
    """A document shared data or an electronic licence stands in for (``SharedEvidence``)."""

    name: str
    aliases: tuple[str, ...]
    kind: str  # "e_licence" or "shared_data"
    source: str

    def matches(self, material_name: str) -> bool:
        """Whether a material names this document. Bracketed alternatives and notes are ignored, and
        application forms (申请表, 登记表, 申请书, 承诺书) never match: they are the applicant's own."""
        text = normalise_name(_BRACKETED.sub("", material_name or ""))
        if _FORM_DOCUMENT.search(text):
            return False
        return any(normalise_name(name) in text for name in (self.name, *self.aliases) if name)


@dataclass(frozen=True)
class Finding:
    key: str
    rule: str
    element: str
    message: str

    @property
    def rule_label(self) -> str:
        return RULE_LABELS[self.rule]

    @property
    def element_label(self) -> str:
        return ELEMENT_LABELS.get(self.element, self.element)


def check_guides(
    guides: Sequence[CheckedGuide], *, required_elements: Sequence[str], evidence: Sequence[Evidence]
) -> list[Finding]:
    """Run every rule over ``guides``; return the findings ordered by item key, rule, element.

    ``required_elements`` are element names of ``GuideContent`` or of the item (``ITEM_ELEMENTS``);
    ``evidence`` is the table of documents that need not be submitted. Never raises on content:
    an unreadable element counts as missing.
    """
    findings: list[Finding] = []
    for guide in guides:
        findings.extend(check_guide(guide, required_elements=required_elements, evidence=evidence))
    findings.extend(_inconsistent_across_organisations(guides))
    return sorted(findings, key=lambda finding: (finding.key, finding.rule, finding.element, finding.message))


def check_guide(
    guide: CheckedGuide, *, required_elements: Sequence[str], evidence: Sequence[Evidence]
) -> list[Finding]:
    """The rules that look at one guide alone (all but ``inconsistent_across_organisations``)."""
    content = guide.content
    findings: list[Finding] = []

    def add(rule: str, element: str, message: str) -> None:
        findings.append(Finding(key=guide.key, rule=rule, element=element, message=message))

    for element in required_elements:
        if not _is_filled(guide, element):
            add("required_element_missing", element, f"未填写“{ELEMENT_LABELS.get(element, element)}”。")

    statutory, promised = content.get("statutory_limit"), content.get("promised_limit")
    if statutory and promised and _exceeds(promised, statutory):
        add(
            "promised_limit_exceeds_statutory",
            "promised_limit",
            f"承诺办结时限 {_days(promised)}超过法定办结时限 {_days(statutory)}。",
        )

    for basis in content.get("legal_basis") or []:
        if not str(basis.get("article") or "").strip():
            add("legal_basis_without_article", "legal_basis", f"《{_strip_title(basis.get('law', ''))}》未列明条款。")

    for material in content.get("materials") or []:
        if not material.get("required", True) or material.get("substitute"):
            continue
        for item in evidence:
            if item.matches(material.get("name", "")):
                way = "电子证照" if item.kind == "e_licence" else "共享数据"
                add(
                    "replaceable_material_required",
                    "materials",
                    f"“{material.get('name')}”可通过{way}（{item.name}）获取，仍要求申请人提交。",
                )
                break

    if content.get("fee_charged") is True and not str(content.get("fee_basis") or "").strip():
        add("fee_without_basis", "fee_basis", "收取费用但未填写收费依据。")

    for conflict in content.get("conflicts") or []:
        values = "；".join(str(value.get("value", "")) for value in conflict.get("values", []))
        add(
            "unresolved_source_conflict",
            "conflicts",
            f"“{conflict.get('field', '')}”各来源不一致（{values}），待编辑核实。"[:500],
        )

    for caveat in content.get("caveats") or []:
        add("unverified_caveat", "caveats", f"待核实：{caveat}"[:500])
    return findings


def _exceeds(promised: dict[str, Any], statutory: dict[str, Any]) -> bool:
    """Whether the promised limit is certainly longer than the statutory one. In the same unit, by
    value. N working days always span at least N natural days, so a promise in working days exceeds a
    statutory limit in natural days when its number is larger; the reverse (natural days promised
    against working days set by law) depends on the calendar and is not flagged."""
    promised_days, statutory_days = int(promised.get("value", 0)), int(statutory.get("value", 0))
    if promised.get("unit") == statutory.get("unit"):
        return promised_days > statutory_days
    return promised.get("unit") == "working_days" and promised_days > statutory_days


def _days(limit: dict[str, Any]) -> str:
    return f"{limit.get('value')}{'个工作日' if limit.get('unit') == 'working_days' else '个自然日'}"


def _inconsistent_across_organisations(guides: Iterable[CheckedGuide]) -> list[Finding]:
    groups: dict[str, list[CheckedGuide]] = defaultdict(list)
    for guide in guides:
        if guide.base_code:
            groups[guide.base_code].append(guide)
    findings: list[Finding] = []
    for members in groups.values():
        if len({member.organisation_code for member in members}) < 2:
            continue
        for element in STANDARDISED_ELEMENTS:
            values = {member.key: _canonical(member.content.get(element)) for member in members}
            counts = Counter(values.values())
            if len(counts) < 2:
                continue
            (majority, majority_count), (_, runner_up) = counts.most_common(2)
            has_majority = majority_count > runner_up
            for member in members:
                if has_majority and values[member.key] == majority:
                    continue
                others = sorted(
                    {other.organisation_name for other in members if values[other.key] != values[member.key]}
                )
                findings.append(
                    Finding(
                        key=member.key,
                        rule="inconsistent_across_organisations",
                        element=element,
                        message=(
                            f"“{ELEMENT_LABELS.get(element, element)}”与{'、'.join(others)}"
                            f"实施的同一事项（基本编码 {member.base_code}）不一致。"
                        ),
                    )
                )
    return findings


def _is_filled(guide: CheckedGuide, element: str) -> bool:
    if element in ITEM_ELEMENTS:
        value: Any = guide.organisation_code if element == "organisation" else getattr(guide, element)
    else:
        value = guide.content.get(element)
    if value is None:
        return False
    if isinstance(value, bool):
        return True
    if isinstance(value, str | list | dict):
        return bool(value.strip() if isinstance(value, str) else value)
    return True


def _canonical(value: Any) -> str:
    """A comparable text for an element: source notes are ignored, order of list entries kept."""
    if isinstance(value, dict):
        value = {key: inner for key, inner in value.items() if key not in ("source", "note")}
    elif isinstance(value, list):
        value = [
            {key: inner for key, inner in entry.items() if key not in ("source", "note")}
            if isinstance(entry, dict)
            else entry
            for entry in value
        ]
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


_BRACKETED = re.compile(r"[(（][^()（）]*[)）]")
_FORM_DOCUMENT = re.compile(r"申请表|登记表|申请书|承诺书|声明")
_PUNCTUATION = re.compile(r"[\s()（）《》“”\"'、，,。.:：;；/\\-]+")


def normalise_name(text: str) -> str:
    return _PUNCTUATION.sub("", text or "")


def _strip_title(law: str) -> str:
    return (law or "").strip().strip("《》")
