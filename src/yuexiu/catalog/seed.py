"""Load Yuexiu's catalogue from the reference files: the twelve Guangdong guides, the 2024 first batch
of 一件事 bundles with their constituent matters, 全市通办 facts and the shared-evidence table.

Sources (copied into catalog/data/ from shared/data, with every value's URL and confidence):
``guides-guangdong.yaml``, ``one-thing-2024.yaml``; ``yuexiu-catalogue.yaml`` says how they map to
Yuexiu's organisations and codes. Idempotent: records are matched on their seed key and never
overwritten, so staff edits survive a second run.

Confidence (H/M/L/U) is never made up: an element carries the mark its source gives it, or else the
mark of its source record, or U. A bundle record from another province is, in the file's own words,
"a shape example, not Yuexiu ground truth": whatever it was read at, its bundle and the items made
from it are marked no higher than L (``OTHER_REGION_MARK``). tests/test_catalog_fidelity.py compares
every seeded value with the source files.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction
from django.utils import timezone

from yuexiu.catalog.content import GuideContent
from yuexiu.catalog.models import (
    BundleItem,
    CitywideHandling,
    EvidenceKind,
    ExerciseLevel,
    GuideStatus,
    GuideVersion,
    ServiceBundle,
    ServiceItem,
    SharedEvidence,
)
from yuexiu.catalog.search import slug_for
from yuexiu.core import audit
from yuexiu.core.models import Organisation

# Confidence marks from least to most sure; ``cap_mark`` keeps a mark no higher than a ceiling.
MARK_ORDER = ("U", "L", "M", "H")
# The ceiling for what a bundle record taken from another province says about Yuexiu: the file calls
# it a shape example, i.e. taken from a parallel region (L: inferred), not read for Yuexiu.
OTHER_REGION_MARK = "L"

DATA = Path(__file__).resolve().parent / "data"
GUIDES_FILE = DATA / "guides-guangdong.yaml"
BUNDLES_FILE = DATA / "one-thing-2024.yaml"
MAPPING_FILE = DATA / "yuexiu-catalogue.yaml"


def _read(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@transaction.atomic
def load_seed_catalogue() -> dict[str, int]:
    """Create the seeded items (each with a published version 1), bundles, 全市通办 records and
    shared-evidence rows that do not exist yet. Returns counts of what was created."""
    mapping = _read(MAPPING_FILE)
    guides = {record["id"]: record for record in _read(GUIDES_FILE)["guides"]}
    bundles = _read(BUNDLES_FILE)["bundles"]
    organisations = {organisation.code: organisation for organisation in Organisation.objects.all()}
    subdistricts = [organisation for organisation in organisations.values() if organisation.kind == "subdistrict"]
    counts = {"items": 0, "bundles": 0, "citywide": 0, "evidence": 0}

    items: dict[str, ServiceItem] = {item.seed_key: item for item in ServiceItem.objects.exclude(seed_key="")}
    taken_slugs = set(ServiceItem.objects.values_list("slug", flat=True))

    def make_item(
        *,
        key: str,
        name: str,
        base_code: str,
        item_type: str,
        organisation_code: str,
        content: dict[str, Any],
        source_url: str,
        source_note: str,
        confidence: str,
        exercise_level: str = ExerciseLevel.COUNTY,
    ) -> ServiceItem:
        # A guide with an open 待核实 question (caveats) is seeded as a draft for the editors, not
        # published: the item stays off the public catalogue until an editor has checked it.
        settled = not content.get("caveats")
        if key in items:
            return items[key]
        organisation = organisations[organisation_code]
        slug = slug_for(name, taken_slugs)
        taken_slugs.add(slug)
        item = ServiceItem.objects.create(
            slug=slug,
            seed_key=key,
            base_code=base_code,
            implementation_code=f"{organisation.code}-{base_code}",
            name=name,
            search_terms=mapping.get("search_terms", {}).get(key, ""),
            item_type=item_type,
            exercise_level=exercise_level,
            organisation=organisation,
            source_url=source_url or "",
            source_note=source_note[:500],
            confidence=confidence,
        )
        validated = GuideContent.model_validate(content).model_dump(mode="json")
        version = GuideVersion.objects.create(
            item=item,
            number=1,
            status=GuideStatus.PUBLISHED if settled else GuideStatus.DRAFT,
            content=validated,
            # the public reads a published version's summary; where it came from is the item's source_note
            change_summary="首次发布：依据公开的法规和政务服务资料整理"
            if settled
            else f"初始导入（待核实，未发布）：{source_note}"[:500],
            published_at=timezone.now() if settled else None,
        )
        if settled:
            item.current_version = version
            item.save(update_fields=["current_version"])
        items[key] = item
        counts["items"] += 1
        return item

    # The result a guide's matter produces, where only the bundle record names it (出生医学证明).
    results = {
        matter["guide"]: matter["result_name"]
        for matters in mapping["bundle_matters"].values()
        for matter in matters
        if "guide" in matter and "result_name" in matter
    }
    for guide_id, target in mapping["guides"].items():
        record = guides[guide_id]
        content = guide_content(
            record,
            service_object=target["service_object"],
            step_names=mapping["step_names"],
            texts=mapping["guide_text"].get(guide_id),
            law_names=mapping["law_names"],
        )
        content.setdefault("result_name", results.get(guide_id, ""))
        item = make_item(
            key=guide_id,
            name=_plain_name(record["name"]),
            base_code=target["base_code"],
            item_type=target["item_type"],
            organisation_code=target["organisation"],
            content=content,
            source_url=_first_url(record),
            source_note=f"guides-guangdong.yaml#{guide_id}；{mapping['code_note']}",
            confidence=record.get("confidence") or "U",
            exercise_level=target["exercise_level"],
        )
        if target.get("intake") == "subdistricts" and not item.intake_organisations.exists():
            item.intake_organisations.set(subdistricts)

    for entry in mapping["citywide"]:
        item = items[entry["guide"]]
        _, created = CitywideHandling.objects.get_or_create(
            item=item,
            mode=entry["mode"],
            defaults={"areas": entry["areas"], "source_url": entry["source_url"], "confidence": entry["confidence"]},
        )
        counts["citywide"] += created

    existing_bundles = set(ServiceBundle.objects.exclude(seed_key="").values_list("seed_key", flat=True))
    bundle_slugs = set(ServiceBundle.objects.values_list("slug", flat=True))
    departments: dict[str, str | None] = mapping["departments"]
    for record in bundles:
        text = mapping["bundle_text"].get(record["id"], {})
        region = str(text.get("region") or _plain_name(str(record.get("region") or "")))
        matters = mapping["bundle_matters"].get(record["id"], [])
        lead_code = _department_code(record.get("lead_department"), departments)
        mark = bundle_mark(record)
        constituents: list[tuple[ServiceItem, str, dict[str, Any]]] = []
        for matter in matters:
            source = _matter_record(record, matter["matter"])
            department_note = (source or {}).get("department") or matter.get("department", "")
            if "guide" in matter:
                item = items[matter["guide"]]
            elif matter["key"] in items:
                item = items[matter["key"]]
            else:
                organisation_code = _department_code(department_note, departments) or lead_code
                own = matter.get("source")  # a matter the record does not list names its own source
                item = make_item(
                    key=matter["key"],
                    name=_plain_name(matter["matter"]),
                    base_code=matter["base_code"],
                    item_type=matter["item_type"],
                    organisation_code=organisation_code or "440104-ZSJ",
                    content=_matter_content(record, matter, mapping),
                    source_url=(own or {}).get("url") or record.get("source_url") or "",
                    source_note=(
                        f"one-thing-2024.yaml#{record['id']}（{region or '地区未知'}）；"
                        + (f"来源：{own['note']}；" if own else "")
                        + f"事项类型可信度 {matter.get('item_type_confidence', 'U')}；{mapping['code_note']}"
                    ),
                    # a matter with its own source (军人退役's core matters: a national law) carries its mark
                    confidence=own["confidence"] if own else mark,
                )
            constituents.append((item, department_note, matter))
        if record["id"] in existing_bundles:
            continue
        slug = slug_for(record["name"], bundle_slugs)
        bundle_slugs.add(slug)
        limits = mapping.get("bundle_limits", {}).get(record["id"], {})
        flow_rule = mapping.get("bundle_flows", {}).get(record["id"], "")
        bundle = ServiceBundle.objects.create(
            slug=slug,
            seed_key=record["id"],
            name=_chinese_quotes(record["name"]),
            event_kind=record["event_kind"],
            lead_organisation=organisations.get(lead_code or ""),
            lead_department_note=str(record.get("lead_department") or "")[:300],
            batch=record.get("batch", ""),
            description=_bundle_description(record),
            eligibility=list(text.get("eligibility") or []),
            # A dated flow (flow_rule) carries the limit of each period; the undated one is then unused.
            promised_limit_days=None if flow_rule else record.get("promised_limit_working_days"),
            promised_limit_note=str(text.get("promised_limit_note") or "")[:300],
            promised_limit_is_fastest=bool(limits.get("fastest")),
            limit_exclusions=list(limits.get("exclusions") or []),
            flow_rule=flow_rule,
            materials_note=str(text.get("materials_note") or "")[:500],
            region=region[:100],
            source_url=record.get("source_url") or "",
            confidence=mark,
            name_confidence=record.get("name_confidence") or "U",
            notes=_bundle_notes(record),
        )
        for position, (item, department_note, matter) in enumerate(constituents, start=1):
            BundleItem.objects.create(
                bundle=bundle,
                item=item,
                position=position,
                department_note=str(department_note)[:200],
                form_fields=_validated("form_fields", _form_fields(matter, mapping)),
                materials=_validated("materials", _materials(matter, mapping)),
            )
        counts["bundles"] += 1

    for entry in mapping["shared_evidence"]:
        _, created = SharedEvidence.objects.get_or_create(
            name=entry["name"],
            effective_from=date.fromisoformat(entry["effective_from"]),
            defaults={
                "aliases": entry["aliases"],
                "kind": EvidenceKind(entry["kind"]),
                "issuer": entry["issuer"],
                "source_document": entry["source_document"],
                "source_url": entry["source_url"],
                "confidence": entry["confidence"],
            },
        )
        counts["evidence"] += created

    if any(counts.values()):
        audit.record_event(action="catalog.seeded", changes=counts, message="导入事项目录种子数据")
    return counts


def _validated(element: str, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entries of a list element checked against ``GuideContent`` (the bundle link stores the same shapes)."""
    return GuideContent.model_validate({element: entries}).model_dump(mode="json")[element]


def _form_fields(matter: dict[str, Any], mapping: dict[str, Any]) -> list[dict[str, Any]]:
    fields = []
    for key in matter.get("form_fields", []):
        definition = mapping["form_fields"][key]
        fields.append({"key": key, "required": True, "choices": [], **definition})
    return fields


def _materials(matter: dict[str, Any], mapping: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": key, **mapping["materials"][key]} for key in matter.get("materials", [])]


def bundle_mark(record: dict[str, Any]) -> str:
    """The confidence a bundle record's facts carry for Yuexiu: the record's own mark, no higher than
    ``OTHER_REGION_MARK`` when its region is not 广东 (a shape example from another province)."""
    mark = str(record.get("confidence") or "U")
    if str(record.get("region") or "").startswith("广东"):
        return mark
    return cap_mark(mark, OTHER_REGION_MARK)


def cap_mark(mark: str, ceiling: str) -> str:
    """``mark`` (H/M/L/U), lowered to ``ceiling`` when it is higher (U < L < M < H)."""
    mark = mark if mark in MARK_ORDER else "U"
    return min(mark, ceiling, key=MARK_ORDER.index)


def _matter_content(record: dict[str, Any], matter: dict[str, Any], mapping: dict[str, Any]) -> dict[str, Any]:
    own = matter.get("source")
    if own:
        source = {"url": own.get("url") or "", "confidence": own["confidence"], "note": own.get("note", "")}
    else:
        source = {"url": record.get("source_url") or "", "confidence": bundle_mark(record)}
    content: dict[str, Any] = {
        "service_object": matter.get("service_object", ""),
        "result_name": matter.get("result_name", ""),
        "sources": {"item": [source]},
    }
    if record["id"] == "newborn-birth":
        # channel: "粤省事 (online, province-wide)" on the Zhongshan page
        content["online_depth"] = "full_online"
        content["places"] = ["粤省事小程序（全程网办）"]
        content["sources"]["online_depth"] = [
            {"url": record.get("source_url") or "", "confidence": bundle_mark(record), "note": str(record["channel"])}
        ]
    return content


def guide_content(
    record: dict[str, Any],
    *,
    service_object: str,
    step_names: dict[str, str] | None = None,
    texts: dict[str, Any] | None = None,
    law_names: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Turn one guides-guangdong.yaml record into a ``GuideContent`` dict, keeping each value's source.

    ``step_names`` gives the Chinese name of a process step the source describes in English, and
    ``law_names`` the full Chinese title of a law whose source annotation is in English; ``texts``
    the Chinese wording of elements the source summarises in English, as ``{element: {"from": source
    key, "value": ...}}`` (yuexiu-catalogue.yaml ``guide_text``): the element gets the value, and its
    sources keep the source key's English text, address and mark.

    Marks: an element's own mark in the source (``<key>_confidence`` or the value's ``confidence``),
    else the record's ``confidence``, else U; none is made up."""
    step_names = step_names or {}
    texts = texts or {}
    law_names = law_names or {}
    sources: dict[str, list[dict[str, str]]] = {}
    record_mark = str(record.get("confidence") or "U")

    def mark(own: Any) -> str:
        return str(own or record_mark)

    def source(element: str, url: Any, confidence: Any, note: str = "") -> None:
        sources.setdefault(element, []).append(
            {"url": str(url or ""), "confidence": mark(confidence), "note": note[:500]}
        )

    legal_basis = []
    for basis in record.get("legal_basis") or []:
        # The source's gist is the researcher's English summary: a note for the editors, not public text.
        note = "；".join(str(basis[key]) for key in ("gist", "status") if basis.get(key))
        legal_basis.append(
            {
                "law": law_names.get(basis["law"]) or _plain_name(basis["law"]),
                "article": basis.get("article") or "",
                "source": {
                    "url": basis.get("source_url") or "",
                    "confidence": mark(basis.get("confidence")),
                    "note": note[:500],
                },
            }
        )
    content: dict[str, Any] = {
        "service_object": service_object,
        "legal_basis": legal_basis,
        "materials": [_material(material) for material in record.get("materials") or []],
        "statutory_limit": _limit(record.get("statutory_limit")),
        "promised_limit": _limit(record.get("promised_limit")),
        "handling_type": _handling_type(record.get("handling_type")),
        "acceptance_conditions": [],
        "applicants": _plain_name(str(record.get("scope") or "")).replace(", ", "、")[:1000],
        "steps": [_step(step, step_names) for step in record.get("process_limits") or []],
        "conflicts": [_conflict(conflict) for conflict in record.get("conflicts") or []],
    }
    fee = record.get("fee")
    if fee is not None:
        fee_text = str(fee)
        free = fee_text.startswith("none") or "free" in fee_text
        content["fee_charged"] = not free
        content["fee_standard"] = "不收费" if free else fee_text[:500]
        source("fee_charged", "", record.get("fee_confidence"), fee_text)
    visits = record.get("onsite_visits")
    if visits is not None:
        match = re.match(r"\d+", str(visits))
        if match:
            content["onsite_visits"] = int(match.group())
            source(
                "onsite_visits",
                record.get("onsite_visits_source_url"),
                record.get("onsite_visits_confidence"),
                str(visits),
            )
    if record.get("online"):
        # The depth level is our reading of the source's sentence (kept as the note); its mark is the
        # source's, as the file gives none for this sentence alone.
        content["online_depth"] = "full_online" if content.get("onsite_visits") == 0 else "online_application"
        source("online_depth", record.get("online_source_url"), record.get("online_confidence"), str(record["online"]))
    for element, key in (("statutory_limit", "statutory_limit"), ("promised_limit", "promised_limit")):
        value = record.get(key)
        if isinstance(value, dict):
            source(element, value.get("source_url"), value.get("confidence"), str(value.get("note") or ""))
    if record.get("materials"):
        source("materials", record.get("materials_source_url"), record.get("materials_confidence"))
    if record.get("handling_type"):
        source(
            "handling_type",
            record.get("handling_type_source_url"),
            record.get("handling_type_confidence"),
            str(record["handling_type"]),
        )
    for note in record.get("guangzhou_notes") or []:
        source("item", note.get("source_url"), note.get("confidence"), note.get("what", ""))
    for other in record.get("other_regions") or []:
        # another region's practice, for the editors' reference only
        source("item", other.get("source_url"), other.get("confidence"), f"其他地区 {other['region']}：{other['note']}")
    source("item_type", "", record.get("item_type_confidence"), str(record.get("item_type") or ""))
    source("organisation", "", record.get("department_confidence"), str(record.get("department_district") or ""))
    if record.get("scope"):
        source("applicants", record.get("scope_source_url"), record.get("scope_confidence"), str(record["scope"]))
    if record.get("process_limits_source_url"):
        source(
            "steps",
            record["process_limits_source_url"],
            record.get("process_limits_confidence"),
            str(record.get("process_limits_note") or ""),
        )
    for element, text in texts.items():
        key = text["from"]
        value = text["value"]
        if element == "steps":
            content["steps"] = [*content["steps"], *({"description": "", **step} for step in value)]
        elif isinstance(value, list):
            content[element] = [*content.get(element, []), *value]
        else:
            content[element] = value
        original = record[key]
        note = "；".join(str(line) for line in original) if isinstance(original, list) else str(original)
        source(element, record.get(f"{key}_source_url"), record.get(f"{key}_confidence"), f"{key}: {note}")
    content["sources"] = sources
    return content


def _limit(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict) or value.get("value") is None:
        return None
    unit = "working_days" if value.get("unit") == "working_days" else "natural_days"
    return {"value": int(value["value"]), "unit": unit, "note": str(value.get("note") or "")[:500]}


def _step(step: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    return {
        "name": names.get(step["step"], step["step"])[:100],
        "description": step["step"][:1000],
        "limit": _limit(step),
    }


def _handling_type(text: Any) -> str:
    text = str(text or "")
    if "即办" in text:
        return "immediate"
    if "承诺" in text:
        return "promised"
    return ""


# What the bracketed remark after a material's form in guides-guangdong.yaml changes. A remark not
# listed here changes nothing (tests/test_catalog_fidelity.py lists each with its reason).
FORM_REMARKS: dict[str, dict[str, str]] = {
    "online form": {"form": "online_form"},
    "online, e-signed": {"form": "online_form"},
    "shared electronically where available": {"substitute": "shared_data"},
    "first enrolment only": {"condition": "仅首次参保登记时提交"},
    "guangdong 告知承诺 route": {"condition": "按告知承诺方式办理时提交"},
    "older route": {"condition": "按原审批方式（非告知承诺）办理时提交"},
}


def _material(material: dict[str, Any]) -> dict[str, Any]:
    name = str(material["name"])
    condition = ""
    match = re.search(r"[(（]((?:only for|if|where|special cases)[^)）]*|[^)）]*\bonly)[)）]", name)
    if match:
        # The source notes the situation in English; the public guide keeps its Chinese words
        # ("重点排污单位 only" → "仅重点排污单位") and otherwise says only that it depends on it.
        chinese = "".join(re.findall(r"[\u4e00-\u9fff]+", match.group(1)))
        condition = ("仅" + chinese if "only" in match.group(1) else chinese) if chinese else "视情况提交"
        name = name.replace(match.group(0), "").strip()
    form, copies, remark = material_form(str(material.get("form", "")))
    effect = FORM_REMARKS.get(remark, {})
    condition = condition or effect.get("condition", "")
    return {
        "name": _plain_name(name)[:200],
        "form": effect.get("form", form),
        "copies": copies,
        "required": not condition,
        "condition": condition[:200],
        "substitute": effect.get("substitute", ""),
    }


def material_form(text: str) -> tuple[str, int, str]:
    """The form (``MaterialForm``), number of copies and bracketed remark (lower case, ``""`` if none)
    of a source's form text. The words before the bracket say the form ("copy, original shown" =
    原件及复印件); what the remark changes is ``FORM_REMARKS``."""
    head, _, remark = text.lower().partition("(")
    copies = re.search(r"(\d+) copies", head)
    if head.startswith("electronic"):
        form = "electronic"
    elif re.search(r"\bcopy\b", head):
        form = "original_and_copy" if "original" in head else "copy"
    else:
        form = "original"
    return form, int(copies.group(1)) if copies else 1, remark.strip().rstrip(")").strip()


def _conflict(conflict: dict[str, Any]) -> dict[str, Any]:
    values = []
    for value in conflict.get("values") or []:
        text = str(value.get("value", ""))
        if value.get("note"):
            text = f"{text}（{value['note']}）"
        values.append(
            {
                "value": text[:300],
                "source": str(value.get("source") or "")[:300],
                "url": str(value.get("url") or "")[:500],
                "confidence": value.get("confidence", "U"),
            }
        )
    return {"field": str(conflict.get("field", ""))[:100], "values": values}


def _plain_name(name: str) -> str:
    """Source names carry English annotations in brackets: keep the Chinese, in full-width brackets.

    ``人力资源服务许可 (经营性人力资源服务机构从事职业中介活动许可)`` keeps its bracket;
    ``促进个体工商户发展条例 (国务院令第755号, in force 2022-11-01)`` becomes ``…（国务院令第755号）``; a part
    mixing English and Chinese keeps its Chinese: ``广东省 (page of 中山市政务服务)`` → ``广东省（中山市政务服务）``.
    """

    def chinese_part(part: str) -> str:
        if not re.search(r"[A-Za-z]{2,}", part):
            return part
        return "".join(re.findall(r"[\u4e00-\u9fff“”]+", part))

    def chinese_parts(match: re.Match[str]) -> str:
        parts = [chinese_part(part.strip()) for part in re.split(r"[,;，；]", match.group(1))]
        kept = [part for part in parts if part]
        return f"（{'，'.join(kept)}）" if kept else ""

    return re.sub(r"\s*[(（]([^()（）]*)[)）]", chinese_parts, name).strip()


def _chinese_quotes(text: str) -> str:
    """``社会保障卡居民服务"一卡通"一件事`` → ``社会保障卡居民服务“一卡通”一件事``."""
    return re.sub(r'"([^"]*)"', "“\\1”", text)


def _first_url(record: dict[str, Any]) -> str:
    for basis in record.get("legal_basis") or []:
        if basis.get("source_url"):
            return str(basis["source_url"])
    return str(record.get("materials_source_url") or "")


def _matter_record(record: dict[str, Any], matter: str) -> dict[str, Any] | None:
    for entry in record.get("constituent_matters") or []:
        if entry.get("matter") == matter:
            return entry
    return None


def _department_code(text: Any, departments: dict[str, str | None]) -> str | None:
    if not text:
        return None
    head = re.split(r"[\s(（/]", str(text).strip(), maxsplit=1)[0]
    return departments.get(head)


def _bundle_description(record: dict[str, Any]) -> str:
    """The record's own words on what the bundle covers (staff notes, English as in the source)."""
    parts = [
        str(record.get(key))
        for key in (
            "scope",
            "mechanism",
            "mechanism_document",
            "constituent_matters_summary",
            "applicant",
            "handling",
            "channel",
        )
        if record.get(key)
    ]
    for key, label in (("constituent_departments", "涉及部门"), ("co_departments", "协同部门")):
        if record.get(key):
            parts.append(f"{label}：{'、'.join(str(name) for name in record[key])}")
    for step in record.get("steps_and_limits") or []:
        parts.append(str(step))
    return "\n".join(parts)


# Record keys kept as staff notes on the bundle, with the key that holds each one's address.
NOTE_KEYS: dict[str, str] = {
    "national_note": "national_source_url",
    "national_lead_department": "",
    "lead_department_note": "",
    "caveat": "",
    "yuexiu_note": "yuexiu_source",
    "history": "source_url",
    "card_application_facts": "source_url_2",
    "legal_basis": "",
    "materials": "source_url",
    "source_url_2": "source_url_2",
    "cited_official_url": "cited_official_url",
    "see_also": "",
}
# The mark each note key carries, where the record gives one of its own.
NOTE_MARKS = {"national_note": "national_confidence", "national_lead_department": "national_lead_department_confidence"}


def _bundle_notes(record: dict[str, Any]) -> list[dict[str, str]]:
    """Everything else the record says, as staff notes ({note, url, confidence}): nothing is dropped.
    Notes on other regions keep the mark the file gives them; they describe that region only."""
    notes = []
    for key, url_key in NOTE_KEYS.items():
        value = record.get(key)
        if not value:
            continue
        lines = value if isinstance(value, list) else [value]
        for line in lines:
            notes.append(
                {
                    "note": f"{key}: {line}",
                    "url": str(record.get(url_key) or "") if url_key else "",
                    "confidence": str(record.get(NOTE_MARKS.get(key, "")) or bundle_mark(record)),
                }
            )
    for note in record.get("guangzhou_notes") or []:
        notes.append(
            {
                "note": f"guangzhou_notes: {note.get('what')}",
                "url": str(note.get("source_url") or ""),
                "confidence": str(note.get("confidence") or ""),
            }
        )
    for region in record.get("other_regions") or []:
        notes.append(
            {
                "note": f"{region.get('region')}：{region.get('note')}",
                "url": str(region.get("source_url") or ""),
                "confidence": str(region.get("confidence") or ""),
            }
        )
    return notes
