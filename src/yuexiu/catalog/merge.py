"""一表申请、一套材料: merge the forms and materials of a bundle's items (国发〔2024〕3号: 一次告知、
一表申请、一套材料). Pure module: plain dictionaries in, plain dataclasses out.

A form field several items ask for (same ``key``) is asked once. A material several items need is
listed once: materials are the same when they share a ``key``; without a key, when they name the
same document in the shared-evidence table; otherwise when their names are equal after removing
spaces and punctuation. A material that shared data or an electronic licence replaces, or that an
earlier item of the bundle produces, is listed as not to be submitted, with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from yuexiu.catalog.checks import Evidence, normalise_name
from yuexiu.catalog.content import MATERIAL_FORM_LABELS, SUBSTITUTE_LABELS

# An item's own application form is replaced by the bundle's merged form (一表申请).
_FORM_DOCUMENT = re.compile(r"申请表|登记表")

# A stronger form wins when two items ask for the same document in different forms.
FORM_STRENGTH = {"online_form": 0, "electronic": 1, "copy": 2, "original": 3, "original_and_copy": 4}


@dataclass(frozen=True)
class BundlePart:
    """One item of the bundle, in bundle order: its name and its guide document (dict)."""

    name: str
    content: dict[str, Any]


@dataclass
class MergedField:
    key: str
    label: str
    kind: str
    required: bool
    choices: list[str]
    sex: str = ""
    max_age_years: int | None = None
    asked_by: list[str] = field(default_factory=list)


@dataclass
class MergedMaterial:
    key: str
    name: str
    form: str
    copies: int
    required: bool
    substitute: str
    needed_by: list[str] = field(default_factory=list)

    @property
    def form_label(self) -> str:
        return MATERIAL_FORM_LABELS.get(self.form, self.form)

    @property
    def substitute_label(self) -> str:
        return SUBSTITUTE_LABELS.get(self.substitute, "")

    @property
    def must_submit(self) -> bool:
        return self.required and not self.substitute


@dataclass
class MergedBundle:
    fields: list[MergedField]
    materials: list[MergedMaterial]
    fields_before_merge: int
    materials_before_merge: int

    @property
    def materials_to_submit(self) -> list[MergedMaterial]:
        return [material for material in self.materials if material.must_submit]


def merge_bundle(parts: Sequence[BundlePart], *, evidence: Sequence[Evidence] = ()) -> MergedBundle:
    """Merge the items' form fields and materials, in bundle order.

    Returns the merged fields (first label wins, required if any item requires it) and materials
    (strongest form, most copies, substitute applied). Counts before merging are kept so a page can
    say how much the bundle saves.
    """
    fields: dict[str, MergedField] = {}
    materials: dict[str, MergedMaterial] = {}
    produced: set[str] = set()
    aliases: dict[str, str] = {}  # evidence key -> key of the keyed material naming the same document
    fields_before = materials_before = 0
    for part in parts:
        for entry in part.content.get("form_fields") or []:
            fields_before += 1
            merged = fields.get(entry["key"])
            if merged is None:
                merged = fields[entry["key"]] = MergedField(
                    key=entry["key"],
                    label=entry["label"],
                    kind=entry.get("kind", "text"),
                    required=bool(entry.get("required", True)),
                    choices=list(entry.get("choices") or []),
                    sex=entry.get("sex", ""),
                    max_age_years=entry.get("max_age_years"),
                )
            merged.required = merged.required or bool(entry.get("required", True))
            merged.asked_by.append(part.name)
        for entry in part.content.get("materials") or []:
            materials_before += 1
            key = _material_key(entry, evidence)
            evidence_key = _evidence_key(entry.get("name", ""), evidence)
            if entry.get("key") and evidence_key:
                aliases.setdefault(evidence_key, key)
            elif not entry.get("key"):
                key = aliases.get(key, key)
            substitute = entry.get("substitute", "")
            if not substitute and _FORM_DOCUMENT.search(entry.get("name", "")):
                substitute = "merged_form"
            if not substitute:
                substitute = _substitute(entry["name"], evidence)
            if not substitute and key in produced:
                substitute = "produced_in_bundle"
            merged_material = materials.get(key)
            if merged_material is None:
                materials[key] = MergedMaterial(
                    key=key,
                    name=entry["name"],
                    form=entry.get("form", "original"),
                    copies=int(entry.get("copies", 1)),
                    required=bool(entry.get("required", True)),
                    substitute=substitute,
                    needed_by=[part.name],
                )
                continue
            if FORM_STRENGTH.get(entry.get("form", "original"), 3) > FORM_STRENGTH.get(merged_material.form, 3):
                merged_material.form = entry.get("form", "original")
            merged_material.copies = max(merged_material.copies, int(entry.get("copies", 1)))
            merged_material.required = merged_material.required or bool(entry.get("required", True))
            if not substitute:
                merged_material.substitute = ""
            merged_material.needed_by.append(part.name)
        result = str(part.content.get("result_name") or "")
        if result:
            produced.add(normalise_name(result))
            for item in evidence:
                if item.matches(result):
                    produced.add(f"evidence:{item.name}")
    return MergedBundle(
        fields=list(fields.values()),
        materials=list(materials.values()),
        fields_before_merge=fields_before,
        materials_before_merge=materials_before,
    )


def _evidence_key(name: str, evidence: Sequence[Evidence]) -> str:
    for item in evidence:
        if item.matches(name):
            return f"evidence:{item.name}"
    return ""


def _material_key(entry: dict[str, Any], evidence: Sequence[Evidence]) -> str:
    if entry.get("key"):
        return str(entry["key"])
    return _evidence_key(entry.get("name", ""), evidence) or normalise_name(entry.get("name", ""))


def _substitute(name: str, evidence: Sequence[Evidence]) -> str:
    for item in evidence:
        if item.matches(name):
            return str(item.kind)
    return ""
