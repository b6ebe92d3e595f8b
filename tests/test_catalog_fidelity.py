"""The seeded catalogue equals its sources, field by field (issue 12).

The sources are ../shared/data/guides-guangdong.yaml and one-thing-2024.yaml (the bureau's research
files); src/yuexiu/catalog/data/ holds verbatim copies that the seed reads. These tests

- check that the copies are the shared files byte for byte (when ../shared is present: a clean clone
  without it compares against the copies, and says so);
- account for every key of every source record: it is compared below (``*_COMPARED``) or listed as not
  seeded with a one-line reason (``*_NOT_SEEDED``). A key added to a source file fails the test until
  someone decides where it goes: facts are not dropped silently;
- compare each guide and bundle with its record: names, types, departments, legal bases with their
  articles and marks, limits with units, handling type, materials with form and conditions, fee,
  visits, online depth, conflicts, notes, 全市通办, member matters, promised limits and what they do
  not count, dated flows, and every confidence mark (an element's own mark, else its record's; records
  from another province no higher than L). Where the seed departs from a source on purpose, the
  departure is listed in ``DEVIATIONS`` with its reason, and an unused entry fails too.

All mismatches of a file are reported at once.
"""

from __future__ import annotations

import hashlib
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from yuexiu.catalog import seed, selectors
from yuexiu.catalog.models import BundleItem, CitywideHandling, GuideStatus, ServiceBundle, ServiceItem
from yuexiu.core import rules

REPO = Path(__file__).resolve().parents[1]
VENDORED = REPO / "src" / "yuexiu" / "catalog" / "data"
GUIDES, BUNDLES = "guides-guangdong.yaml", "one-thing-2024.yaml"


def shared_data_dir() -> Path | None:
    """../shared/data next to the checkout (or ``YUEXIU_SHARED_DATA``), if it holds the source files."""
    candidates = [Path(os.environ["YUEXIU_SHARED_DATA"])] if os.environ.get("YUEXIU_SHARED_DATA") else []
    candidates += [parent / "shared" / "data" for parent in REPO.parents]
    return next((path for path in candidates if (path / GUIDES).is_file() and (path / BUNDLES).is_file()), None)


SHARED = shared_data_dir()
SOURCE = SHARED or VENDORED


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((SOURCE / name).read_text(encoding="utf-8"))


MARKS = ("U", "L", "M", "H")

# ---- every key of a source record: compared, or not seeded for a stated reason -------------------

GUIDE_KEYS_COMPARED = {
    "id", "name", "item_type", "item_type_confidence", "department_district", "department_confidence",
    "legal_basis", "statutory_limit", "promised_limit", "process_limits", "process_limits_confidence",
    "process_limits_note", "process_limits_source_url", "handling_type", "handling_type_confidence",
    "handling_type_source_url", "materials", "materials_confidence", "materials_source_url", "fee",
    "fee_confidence", "onsite_visits", "onsite_visits_confidence", "onsite_visits_source_url", "online",
    "online_source_url", "citywide_handling", "conflicts", "confidence", "guangzhou_notes", "other_regions",
    "scope", "scope_source_url", "conditions", "conditions_source_url", "validity", "validity_source_url",
    "onsite_check", "rules", "rules_source_url", "caveat", "bundle",
}  # fmt: skip
GUIDE_KEYS_NOT_SEEDED: dict[str, str] = {}

BUNDLE_KEYS_COMPARED = {
    "id", "name", "name_confidence", "event_kind", "batch", "region", "lead_department",
    "lead_department_confidence", "constituent_matters", "promised_limit_working_days", "promised_limit_note",
    "steps_and_limits", "eligibility", "materials", "materials_reduced", "source_url", "confidence",
    "national_note", "national_source_url", "national_confidence", "national_lead_department",
    "national_lead_department_confidence", "lead_department_note", "caveat", "yuexiu_note", "yuexiu_source",
    "history", "card_application_facts", "legal_basis", "source_url_2", "cited_official_url", "see_also",
    "guangzhou_notes", "other_regions", "scope", "mechanism", "mechanism_document", "constituent_matters_summary",
    "applicant", "handling", "channel", "constituent_departments", "co_departments",
}  # fmt: skip
BUNDLE_KEYS_NOT_SEEDED: dict[str, str] = {}

TOP_LEVEL_NOT_SEEDED = {
    (GUIDES, "schema_version"): "file metadata",
    (GUIDES, "compiled_on"): "file metadata",
    (BUNDLES, "schema_version"): "file metadata",
    (BUNDLES, "compiled_on"): "file metadata",
    (BUNDLES, "national_documents"): "the documents behind the bundles; cited in domain/rules.md §3 and ADR 0002, "
    "not catalogue records",
    (BUNDLES, "batches"): "batch sizes and the later batches' item lists, which are empty or partial: a bundle "
    "keeps its batch (ServiceBundle.batch) and no unnamed item is seeded",
}

# ---- deliberate departures, each with its reason ---------------------------------------------------

GUIDE_DEVIATIONS: dict[tuple[str, str], str] = {
    ("urban-rural-resident-pension-enrolment", "department_district"): "the source names the 街道 centre and the "
    "city fund centre's Yuexiu office, neither in the organisation table: the item is 区人社局's, taken in at the 街道",
    ("construction-permit", "department_district"): "the source's 住房和城乡建设局 is marked L; the organisation "
    "table carries the district bureau's published name, 住房和建设局",
}
BUNDLE_DEVIATIONS: dict[tuple[str, str], str] = {
    ("military-discharge", "constituent_matters"): "the record names only the 3 matters added on 2025-03-01 "
    "(\u201c在已有联办事项基础上\u201d); the core matters 报到, 户口登记 and the pension and medical insurance "
    "transfers are added from 退役军人保障法 第十四、十七、十八条, each with its own source and mark",
    ("credit-repair", "promised_limit_working_days"): "the 10 working days are those of the 58号令 practice: they "
    "are the dated rule catalog.credit_repair_bundle_flow from 2023-05-01; from 2026-04-01 (36号令) the limit "
    "is unknown",
}
DEVIATIONS = {**GUIDE_DEVIATIONS, **BUNDLE_DEVIATIONS}

# How each source form text of a material is seeded: (form, copies, substitute, condition).
MATERIAL_FORMS: dict[str, tuple[str, int, str, str]] = {
    "copy": ("copy", 1, "", ""),
    "copy (shared electronically where available)": ("copy", 1, "shared_data", ""),
    "copy, original shown": ("original_and_copy", 1, "", ""),
    "copy, original shown (older route)": ("original_and_copy", 1, "", "按原审批方式（非告知承诺）办理时提交"),
    "electronic": ("electronic", 1, "", ""),
    "original": ("original", 1, "", ""),
    "original (Guangdong 告知承诺 route)": ("original", 1, "", "按告知承诺方式办理时提交"),
    "original (face recognition online)": ("original", 1, "", ""),
    "original (older route)": ("original", 1, "", "按原审批方式（非告知承诺）办理时提交"),
    "original (online form)": ("online_form", 1, "", ""),
    "original (online, e-signed)": ("online_form", 1, "", ""),
    "original (or taken on site)": ("original", 1, "", ""),
    "original and copy": ("original_and_copy", 1, "", ""),
    "original and copy (first enrolment only)": ("original_and_copy", 1, "", "仅首次参保登记时提交"),
    "original shown": ("original", 1, "", ""),
    "original shown / verified online by face recognition": ("original", 1, "", ""),
    "original, 2 copies": ("original", 2, "", ""),
}
MATERIAL_FORM_REMARKS_NOT_SEEDED = {
    "original (face recognition online)": "how the original is checked online; the material stays 原件",
    "original (or taken on site)": "a photo may be taken at the window; the material stays 原件",
    "original shown / verified online by face recognition": "how the original is checked online",
}

ITEM_TYPES = {"行政许可": "licensing", "公共服务": "public_service", "行政给付": "payment"}
UNITS = {"working_days": "working_days", "days": "natural_days"}
# guide keys whose English the platform renders in Chinese (yuexiu-catalogue.yaml guide_text)
RENDERED_KEYS = ("conditions", "validity", "onsite_check", "rules", "caveat", "onsite_visits", "scope", "fee")
# bundle keys that go into the staff description, and into the staff notes (seed.NOTE_KEYS)
DESCRIPTION_KEYS = ("scope", "mechanism", "mechanism_document", "constituent_matters_summary", "applicant",
                    "handling", "channel", "steps_and_limits", "constituent_departments", "co_departments")  # fmt: skip


def cjk(text: Any) -> str:
    """The Chinese characters of a text: what must survive when English remarks are dropped."""
    return "".join(re.findall(r"[\u4e00-\u9fff]+", str(text or "")))


def keeps_chinese(seeded: Any, source: Any) -> bool:
    """Whether every run of Chinese in ``source`` appears in ``seeded``, in order: nothing Chinese was
    dropped when English remarks were rendered or left out."""
    text, position = str(seeded or ""), 0
    for run in re.findall(r"[\u4e00-\u9fff]+", str(source or "")):
        found = text.find(run, position)
        if found < 0:
            return False
        position = found + len(run)
    return True


def is_subsequence(short: str, long: str) -> bool:
    characters = iter(long)
    return all(character in characters for character in short)


def lines(value: Any) -> list[Any]:
    """A record value as a list of entries (a single value is one entry, a missing one none)."""
    if not value:
        return []
    return list(value) if isinstance(value, list) else [value]


def capped(mark: str, ceiling: str) -> str:
    return min(mark, ceiling, key=MARKS.index)


class Mismatches(list[str]):
    def check(self, condition: bool, where: str, what: str) -> None:
        if not condition:
            self.append(f"{where}: {what}")


@pytest.fixture
def used_deviations() -> set[tuple[str, str]]:
    return set()


def deviation(used: set[tuple[str, str]], record_id: str, field: str) -> bool:
    key = (record_id, field)
    if key in DEVIATIONS:
        used.add(key)
        return True
    return False


# SHA-256 of the shared files as vendored: a clean clone (no ../shared) still proves the copies are
# the ones the seed was checked against; a new source version means updating copy, seed and digest.
VENDORED_SHA256 = {
    GUIDES: "7a1cf1d528b3ca84cc45eb2337b330f7fd927a28fc492691ed50280bef911a46",
    BUNDLES: "e1a62a357cfe4264082bdbcafcae743cc0698688b10bbf84682a4c269a3f5f30",
}


def test_the_vendored_copies_are_the_shared_files_byte_for_byte():
    for name in (GUIDES, BUNDLES):
        assert hashlib.sha256((VENDORED / name).read_bytes()).hexdigest() == VENDORED_SHA256[name], name
        if SHARED is not None:
            assert (VENDORED / name).read_bytes() == (SHARED / name).read_bytes(), name


def test_every_source_key_is_compared_or_listed_as_not_seeded():
    problems = []
    for name, compared, not_seeded, records in (
        (GUIDES, GUIDE_KEYS_COMPARED, GUIDE_KEYS_NOT_SEEDED, load(GUIDES)["guides"]),
        (BUNDLES, BUNDLE_KEYS_COMPARED, BUNDLE_KEYS_NOT_SEEDED, load(BUNDLES)["bundles"]),
    ):
        seen = {key for record in records for key in record}
        problems += [f"{name}: key {key!r} is neither compared nor listed" for key in seen - compared - set(not_seeded)]
        problems += [f"{name}: {key!r} is listed but no record has it" for key in (compared | set(not_seeded)) - seen]
        top = set(load(name)) - {"guides", "bundles"}
        problems += [
            f"{name}: top-level {key!r} not accounted for"
            for key in top - {k for f, k in TOP_LEVEL_NOT_SEEDED if f == name}
        ]
    forms = {material["form"] for record in load(GUIDES)["guides"] for material in record.get("materials") or []}
    problems += [f"material form {form!r} has no expected seeding" for form in forms - set(MATERIAL_FORMS)]
    assert set(MATERIAL_FORM_REMARKS_NOT_SEEDED) <= set(MATERIAL_FORMS)
    assert problems == []


def test_every_guide_equals_its_source(client, catalogue, used_deviations):
    mapping = seed._read(seed.MAPPING_FILE)
    found = Mismatches()
    for record in load(GUIDES)["guides"]:
        gid = record["id"]
        mark = record["confidence"]
        item = ServiceItem.objects.select_related("organisation").get(seed_key=gid)
        version = item.versions.get(number=1)
        content = version.content
        sources = content.get("sources", {})

        def own(key: str, record: dict[str, Any] = record, mark: str = mark) -> str:
            """The mark the source gives ``key``, else the record's."""
            return record.get(key) or mark

        def first_source(element: str, sources: dict[str, Any] = sources) -> dict[str, str]:
            return (sources.get(element) or [{}])[0]

        # identity
        found.check(cjk(item.name) == cjk(record["name"]), gid, f"name {item.name} ≠ {record['name']}")
        found.check(item.confidence == mark, gid, f"item confidence {item.confidence} ≠ {mark}")
        found.check(item.item_type == ITEM_TYPES[record["item_type"].split(" (")[0]], gid, "item type")
        found.check(first_source("item_type").get("confidence") == own("item_type_confidence"), gid, "type mark")
        organisation = item.organisation.name
        found.check(
            organisation.removeprefix("广州市") in record["department_district"]
            or deviation(used_deviations, gid, "department_district"),
            gid,
            f"department {record['department_district']} ≠ {organisation}",
        )
        found.check(first_source("organisation").get("confidence") == own("department_confidence"), gid, "dept mark")
        found.check(first_source("organisation").get("note") == record["department_district"], gid, "dept text")

        # publication: a guide whose source leaves a question open is a draft for the editors
        if record.get("caveat"):
            found.check(version.status == GuideStatus.DRAFT and item.current_version_id is None, gid, "published")
            found.check(client.get(f"/services/items/{item.slug}/").status_code == 404, gid, "public page shown")
        else:
            found.check(version.status == GuideStatus.PUBLISHED and item.current_version_id == version.pk, gid, "draft")

        # legal basis, law by law
        bases = content["legal_basis"]
        found.check(len(bases) == len(record["legal_basis"]), gid, "number of legal bases")
        for basis, source in zip(bases, record["legal_basis"], strict=False):
            where = f"{gid} legal basis {source['law']}"
            found.check(keeps_chinese(basis["law"], source["law"]), where, f"law {basis['law']}")
            found.check(basis["article"] == (source.get("article") or ""), where, "article")
            found.check(basis["source"]["url"] == (source.get("source_url") or ""), where, "address")
            found.check(basis["source"]["confidence"] == (source.get("confidence") or mark), where, "mark")

        # limits, with units and marks
        for element in ("statutory_limit", "promised_limit"):
            source, seeded = record.get(element), content.get(element)
            if source is None:
                found.check(seeded is None, gid, f"{element} seeded without a source")
                continue
            found.check(
                seeded is not None and (seeded["value"], seeded["unit"]) == (source["value"], UNITS[source["unit"]]),
                gid,
                f"{element} {seeded} ≠ {source['value']} {source['unit']}",
            )
            entry = first_source(element)
            found.check(entry.get("confidence") == (source.get("confidence") or mark), gid, f"{element} mark")
            found.check(entry.get("url") == (source.get("source_url") or ""), gid, f"{element} address")
        for step, source in zip(content["steps"], record.get("process_limits") or [], strict=False):
            found.check(
                step["limit"] == {"value": source["value"], "unit": UNITS[source["unit"]], "note": ""}, gid, "step"
            )
            found.check(step["description"] == source["step"], gid, "step text")
        if record.get("process_limits"):
            entry = first_source("steps")
            found.check(entry.get("confidence") == own("process_limits_confidence"), gid, "steps mark")
            found.check(entry.get("url") == record["process_limits_source_url"], gid, "steps address")
            found.check(entry.get("note") == record["process_limits_note"], gid, "steps note")

        # handling type
        text = str(record.get("handling_type") or "")
        expected = "immediate" if "即办" in text else "promised" if "承诺" in text else ""
        found.check(content["handling_type"] == expected, gid, f"handling type {content['handling_type']} ≠ {text}")
        if text:
            entry = first_source("handling_type")
            found.check(entry.get("confidence") == own("handling_type_confidence"), gid, "handling type mark")
            found.check(entry.get("url") == (record.get("handling_type_source_url") or ""), gid, "handling address")

        # materials: name (Chinese kept, English remarks become the condition), form, copies, substitute
        materials = content["materials"]
        found.check(len(materials) == len(record.get("materials") or []), gid, "number of materials")
        for material, source in zip(materials, record.get("materials") or [], strict=False):
            where = f"{gid} material {source['name']}"
            name, rest = cjk(material["name"]), cjk(source["name"])
            found.check(rest.startswith(name) and rest[len(name) :] in material["condition"], where, "name")
            form, copies, substitute, condition = MATERIAL_FORMS[source["form"]]
            found.check(
                (material["form"], material["copies"], material["substitute"]) == (form, copies, substitute),
                where,
                "form",
            )
            if condition:
                found.check(material["condition"] == condition and not material["required"], where, "condition")
            else:
                found.check(material["required"] == (not material["condition"]), where, "required")
        if record.get("materials"):
            entry = first_source("materials")
            found.check(entry.get("confidence") == own("materials_confidence"), gid, "materials mark")
            found.check(entry.get("url") == (record.get("materials_source_url") or ""), gid, "materials address")

        # fee, visits, online depth
        fee = record.get("fee")
        if fee is None:
            found.check(content.get("fee_charged") is None, gid, "fee seeded without a source")
        else:
            free = str(fee).startswith("none") or "free" in str(fee)
            found.check(content["fee_charged"] is (not free), gid, "fee")
            found.check(first_source("fee_charged").get("note") == str(fee), gid, "fee text")
            found.check(first_source("fee_charged").get("confidence") == own("fee_confidence"), gid, "fee mark")
        visits = record.get("onsite_visits")
        if visits is None:
            found.check(content.get("onsite_visits") is None, gid, "visits seeded without a source")
        else:
            found.check(content["onsite_visits"] == int(re.match(r"\d+", str(visits)).group()), gid, "visits")
            found.check(first_source("onsite_visits").get("note") == str(visits), gid, "visits text")
            found.check(
                first_source("onsite_visits").get("confidence") == own("onsite_visits_confidence"), gid, "visits mark"
            )
            if "1 to collect in person" in str(visits):
                found.check("到现场 1 次" in content["onsite_visits_note"], gid, "the visit to collect in person")
        if record.get("online"):
            entry = first_source("online_depth")
            found.check(content["online_depth"] in ("online_application", "full_online"), gid, "online depth")
            found.check(
                (entry.get("note"), entry.get("url")) == (record["online"], record.get("online_source_url", "")),
                gid,
                "online source",
            )
            found.check(entry.get("confidence") == mark, gid, f"online depth mark {entry.get('confidence')} ≠ {mark}")
        else:
            found.check(not content.get("online_depth"), gid, "online depth without a source")

        # 全市通办: the source marks every item unknown, so none is seeded
        found.check(record["citywide_handling"] == "unknown", gid, "the source now names a 全市通办 mode: seed it")
        found.check(not CitywideHandling.objects.filter(item=item).exists(), gid, "全市通办 seeded")

        # conflicts and notes
        found.check(
            [(c["field"], len(c["values"])) for c in content["conflicts"]]
            == [(c["field"], len(c["values"])) for c in record.get("conflicts") or []],
            gid,
            "conflicts",
        )
        notes = [entry.get("note", "") for entry in sources.get("item", [])]
        for note in record.get("guangzhou_notes") or []:
            found.check(note["what"] in notes, gid, "Guangzhou note dropped")
        for other in record.get("other_regions") or []:
            found.check(
                any(other["note"] in line and "其他地区" in line for line in notes), gid, "other region dropped"
            )
        if record.get("scope"):
            found.check(keeps_chinese(content["applicants"], record["scope"]), gid, "scope")
            entry = next((entry for entry in sources.get("applicants", []) if entry.get("url")), {})
            found.check(entry.get("url") == record.get("scope_source_url"), gid, "scope address")

        # facts the source states in English and the platform renders in Chinese
        texts = mapping["guide_text"].get(gid, {})
        rendered = {entry["from"]: element for element, entry in texts.items()}
        for key in RENDERED_KEYS:
            # a visit count or fee needs words only when it is more than a number or "none"; a scope only
            # when it has English remarks
            if key == "onsite_visits" and "to collect" not in str(record.get(key) or ""):
                continue
            if key == "fee" and ("free" not in str(record.get(key) or "")):
                continue
            if key == "scope" and not re.search(r"[A-Za-z]{2,}", str(record.get(key) or "")):
                continue
            if not record.get(key):
                continue
            element = rendered.get(key)
            found.check(element is not None, gid, f"{key} is not carried into the guide")
            if element is None:
                continue
            value = texts[element]["value"]
            seeded = content.get(element)
            if element == "steps":
                found.check(
                    [step["name"] for step in seeded][-len(value) :] == [step["name"] for step in value], gid, key
                )
            elif isinstance(value, list):
                found.check(seeded[-len(value) :] == value, gid, key)
            else:
                found.check(seeded == value, gid, key)
            original = record[key]
            original = "；".join(original) if isinstance(original, list) else str(original)
            entries = [entry for entry in sources.get(element, []) if entry.get("note") == f"{key}: {original}"]
            found.check(bool(entries), gid, f"{key}: its English text is not kept beside {element}")
            for entry in entries:
                found.check(entry["url"] == (record.get(f"{key}_source_url") or ""), gid, f"{key} address")
                found.check(entry["confidence"] == own(f"{key}_confidence"), gid, f"{key} mark")
        if record.get("caveat"):
            found.check(bool(content.get("caveats")), gid, "caveat not kept for the editors")
        if record.get("bundle"):
            bundle_id = record["bundle"].split("id ")[1].rstrip(")")
            found.check(BundleItem.objects.filter(item=item, bundle__seed_key=bundle_id).exists(), gid, "bundle link")
    assert not found, "\n" + "\n".join(found)
    assert used_deviations == set(GUIDE_DEVIATIONS), "a listed deviation is no longer needed: remove it"


def test_every_bundle_equals_its_source(catalogue, used_deviations):
    mapping = seed._read(seed.MAPPING_FILE)
    departments = mapping["departments"]
    found = Mismatches()
    for record in load(BUNDLES)["bundles"]:
        bid = record["id"]
        bundle = ServiceBundle.objects.get(seed_key=bid)
        links = list(bundle.bundleitem_set.select_related("item").order_by("position"))
        from_guangdong = str(record.get("region") or "").startswith("广东")
        mark = record["confidence"] if from_guangdong else capped(record["confidence"], "L")

        found.check(cjk(bundle.name) == cjk(record["name"]), bid, "name")
        found.check(bundle.name_confidence == record["name_confidence"], bid, "name mark")
        found.check((bundle.event_kind, bundle.batch) == (record["event_kind"], record["batch"]), bid, "kind or batch")
        found.check(
            bundle.confidence == mark, bid, f"confidence {bundle.confidence} ≠ {mark} (region {record['region']})"
        )
        found.check(bundle.source_url == (record.get("source_url") or ""), bid, "source address")
        found.check(
            keeps_chinese(bundle.region, record.get("region")) or deviation(used_deviations, bid, "region"),
            bid,
            f"region {bundle.region} ≠ {record.get('region')}",
        )
        found.check(bundle.lead_department_note == str(record.get("lead_department") or ""), bid, "lead department")
        head = re.split(r"[\s(（/]", str(record.get("lead_department") or ""), maxsplit=1)[0]
        lead = bundle.lead_organisation.code if bundle.lead_organisation else None
        found.check(lead == departments.get(head), bid, f"lead organisation {lead}")
        if record.get("lead_department_confidence"):
            found.check(
                MARKS.index(bundle.confidence) <= MARKS.index(record["lead_department_confidence"]), bid, "lead mark"
            )

        # member matters, in order, with their departments: each matter of the record is linked, as the
        # guide's item where the mapping says so, or as an item of its own name (or an item of the same
        # matter made for an earlier bundle: 社会保障卡申领)
        named = [matter["matter"] for matter in record.get("constituent_matters") or []]
        entries = {matter["matter"]: matter for matter in mapping["bundle_matters"].get(bid, [])}
        extra = [matter for matter in entries.values() if matter.get("source")]
        if extra:
            found.check(deviation(used_deviations, bid, "constituent_matters"), bid, "matters added without a reason")
        found.check(set(named) <= set(entries), bid, f"matters without a mapping: {set(named) - set(entries)}")
        guide_names = {guide["id"]: guide["name"] for guide in load(GUIDES)["guides"]}
        expected = [matter["matter"] for matter in extra] + named
        found.check(len(links) == len(expected), bid, f"{len(links)} matters linked, {len(expected)} named")
        for link, name in zip(links, expected, strict=False):
            entry = entries.get(name, {})
            if entry.get("guide"):
                found.check(
                    cjk(link.item.name) == cjk(guide_names[entry["guide"]]), bid, f"{name}: not the guide's item"
                )
            elif entry.get("base_code"):
                found.check(cjk(link.item.name) == cjk(name), bid, f"matter {link.item.name} ≠ {name}")
            else:
                found.check(is_subsequence(cjk(link.item.name), cjk(name)), bid, f"matter {link.item.name} ≠ {name}")
        source_departments = [matter.get("department", "") for matter in extra] + [
            matter["department"] for matter in record.get("constituent_matters") or []
        ]
        found.check([link.department_note for link in links] == source_departments, bid, "matter departments")
        made_here = {matter["key"]: matter for matter in entries.values() if matter.get("base_code")}
        for link in links:
            item = link.item
            if item.seed_key not in made_here:  # a guide's item, or one made for an earlier bundle
                continue
            own_source = made_here[item.seed_key].get("source")
            # a matter with its own source (a national law) carries that source's mark
            expected_mark = own_source["confidence"] if own_source else mark
            found.check(
                item.confidence == expected_mark, bid, f"{item.name} confidence {item.confidence} ≠ {expected_mark}"
            )

        # the promise: limit, "最快", what it does not count, dated flows
        note = str(record.get("promised_limit_note") or "")
        found.check(bundle.promised_limit_is_fastest == ("as little as" in note), bid, "最快")
        kinds = {entry["kind"] for entry in bundle.limit_exclusions}
        expected_kinds = {
            kind for word, kind in (("card-making", "card_making"), ("postage", "postage")) if word in note
        }
        found.check(kinds == expected_kinds, bid, f"excluded steps {kinds} ≠ {expected_kinds}")
        names = {link.item.name for link in links}
        for entry in bundle.limit_exclusions:
            found.check(set(entry["items"]) <= names, bid, f"excluded step of a matter not in the bundle: {entry}")
        limit = record.get("promised_limit_working_days")
        if bundle.flow_rule:
            found.check(
                deviation(used_deviations, bid, "promised_limit_working_days"), bid, "dated flow without reason"
            )
            found.check(bundle.promised_limit_days is None, bid, "undated limit kept beside the dated flow")
            row = rules.get_rule(bundle.flow_rule, date(2026, 3, 31))
            found.check(row.value["promised_limit_days"] == limit, bid, "58号令 limit")
            found.check(
                row.source_url == record["source_url"] and row.confidence == record["confidence"], bid, "58号令 source"
            )
            steps = [int(re.search(r"within (\d+) working days", line).group(1)) for line in record["steps_and_limits"]]
            found.check([step["limit_days"] for step in row.value["steps"]] == steps, bid, "58号令 steps")
            later = rules.get_rule(bundle.flow_rule, date(2026, 4, 1))
            found.check(later.effective_from == date(2026, 4, 1) and "36号" in later.source_document, bid, "36号令 row")
            found.check(
                later.value["promised_limit_days"] is None and later.confidence == "U", bid, "36号令 limits known?"
            )
            found.check(all(step["limit_days"] is None for step in later.value["steps"]), bid, "36号令 step limits")
        else:
            found.check(bundle.promised_limit_days == limit, bid, f"limit {bundle.promised_limit_days} ≠ {limit}")

        # eligibility and materials (Chinese wording in bundle_text), notes and description
        found.check(len(bundle.eligibility) == len(record.get("eligibility") or []), bid, "eligibility")
        if record.get("materials_reduced") or record.get("materials"):
            found.check(bool(bundle.materials_note), bid, "materials note dropped")
        for key, url_key in seed.NOTE_KEYS.items():
            for line in lines(record.get(key)):
                entry = next((entry for entry in bundle.notes if entry["note"] == f"{key}: {line}"), None)
                found.check(entry is not None, bid, f"{key} dropped")
                url = str(record.get(url_key) or "") if url_key else ""
                found.check(entry is None or entry["url"] == url, bid, f"{key} address")
        for key, confidence_key in seed.NOTE_MARKS.items():
            if record.get(key):
                entry = next(entry for entry in bundle.notes if entry["note"].startswith(f"{key}: "))
                found.check(entry["confidence"] == (record.get(confidence_key) or mark), bid, f"{key} mark")
        for note in (*(record.get("guangzhou_notes") or []), *(record.get("other_regions") or [])):
            text = note.get("what") or note.get("note")
            entry = next((entry for entry in bundle.notes if text in entry["note"]), None)
            found.check(entry is not None and entry["confidence"] == note["confidence"], bid, f"note dropped: {text}")
        for key in DESCRIPTION_KEYS:
            for line in lines(record.get(key)):
                found.check(str(line) in bundle.description, bid, f"{key} dropped")

    promise = selectors.bundle_promise(ServiceBundle.objects.get(seed_key="newborn-birth"))
    found.check(promise.text == "最快 5 个工作日（制卡、邮寄时间不计入）", "newborn-birth", promise.text)
    assert not found, "\n" + "\n".join(found)
    assert used_deviations == set(BUNDLE_DEVIATIONS), "a listed deviation is no longer needed: remove it"
