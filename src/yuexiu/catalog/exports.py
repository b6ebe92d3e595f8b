"""Exports of the catalogue: the spreadsheet (same columns the import reads) and CPSV-AP JSON-LD.

CPSV-AP 3 (Core Public Service Vocabulary Application Profile, SEMIC): PublicService with its
competent PublicOrganisation, Evidence (materials), Cost, Channel, LegalResource and the
LifeEvent / BusinessEvent that groups it (our 一件事 bundles).
"""

from __future__ import annotations

import json
from typing import Any

from yuexiu.catalog.models import BundleItem, EventKind, ServiceBundle, ServiceItem
from yuexiu.catalog.selectors import public_items
from yuexiu.catalog.services import IMPORT_COLUMNS, catalogue_row
from yuexiu.core import tabular

CPSV_CONTEXT = {
    "cpsv": "http://purl.org/vocab/cpsv#",
    "cv": "http://data.europa.eu/m8g/",
    "dct": "http://purl.org/dc/terms/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "eli": "http://data.europa.eu/eli/ontology#",
    "schema": "https://schema.org/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
BASE_URI = "https://yuexiu.example.gov.cn/"
EXPORT_CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "jsonld": "application/ld+json; charset=utf-8",
}


def catalogue_rows() -> list[list[str]]:
    """One row per public item in ``IMPORT_COLUMNS`` order; re-importing it changes nothing."""
    items = public_items().order_by("organisation__sort_order", "base_code", "id")
    return [[row[column] for column in IMPORT_COLUMNS] for row in map(catalogue_row, items)]


def export_catalogue(file_format: str) -> bytes:
    """The public catalogue as ``xlsx``, ``csv`` (UTF-8 with BOM) or ``jsonld`` (CPSV-AP), as bytes."""
    if file_format == "xlsx":
        return tabular.write_xlsx(IMPORT_COLUMNS, catalogue_rows(), sheet_title="政务服务事项目录")
    if file_format == "csv":
        return tabular.write_csv(IMPORT_COLUMNS, catalogue_rows())
    return json.dumps(cpsv_document(), ensure_ascii=False, indent=2).encode("utf-8")


def _text(value: str) -> dict[str, str]:
    return {"@language": "zh-Hans", "@value": value}


def _service(item: ServiceItem, events: list[str]) -> dict[str, Any]:
    """One PublicService node. Nested nodes get stable ``@id`` fragments under the service's IRI
    (``#legal-1``, ``#evidence-2``, ``#cost``, ``#channel-1``) so that harvesters can merge them.

    ``cv:processingTime`` (an xsd:duration) is written only for limits in natural days; a limit in
    working days (行政许可法 第八十二条) is not a duration and is stated in ``dct:description``."""
    content = item.current_version.content if item.current_version else {}
    iri = f"{BASE_URI}services/items/{item.slug}/"
    channels = [{"@type": "cv:Channel", "dct:type": _text(place)} for place in content.get("places", [])]
    if content.get("online_url"):
        channels.append({"@type": "cv:Channel", "dct:type": _text("网上办理"), "schema:url": content["online_url"]})
    node: dict[str, Any] = {
        "@id": iri,
        "@type": "cpsv:PublicService",
        "dct:identifier": item.implementation_code,
        "dct:title": _text(item.name),
        "dct:type": _text(item.get_item_type_display()),
        "cv:hasCompetentAuthority": {"@id": f"{BASE_URI}organisations/{item.organisation.code}/"},
        "cv:hasLegalResource": [
            {
                "@id": f"{iri}#legal-{number}",
                "@type": "eli:LegalResource",
                "dct:title": _text(f"{basis['law']}{basis.get('article', '')}"),
            }
            for number, basis in enumerate(content.get("legal_basis", []), start=1)
        ],
        "cv:hasInput": [
            {
                "@id": f"{iri}#evidence-{number}",
                "@type": "cv:Evidence",
                "dct:title": _text(material["name"]),
                "dct:description": _text(
                    "可免提交（电子证照或共享数据）" if material.get("substitute") else "申请人提交"
                ),
            }
            for number, material in enumerate(content.get("materials", []), start=1)
        ],
        "cv:hasChannel": [
            {"@id": f"{iri}#channel-{number}", **channel} for number, channel in enumerate(channels, start=1)
        ],
        "cv:isGroupedBy": [{"@id": event} for event in events],
    }
    if content.get("fee_charged") is not None:
        cost: dict[str, Any] = {
            "@id": f"{iri}#cost",
            "@type": "cv:Cost",
            "cv:currency": "CNY",
            "dct:description": _text(
                content.get("fee_standard", "") or ("不收费" if not content["fee_charged"] else "")
            ),
        }
        if content["fee_charged"] is False:
            cost["cv:value"] = 0
        node["cv:hasCost"] = [cost]
    limit = content.get("promised_limit") or content.get("statutory_limit")
    if limit:
        unit = "工作日" if limit["unit"] == "working_days" else "自然日"
        node["dct:description"] = _text(f"办结时限 {limit['value']} 个{unit}")
        if limit["unit"] == "natural_days":
            node["cv:processingTime"] = {"@type": "xsd:duration", "@value": f"P{limit['value']}D"}
    return node


def cpsv_document() -> dict[str, Any]:
    """The whole public catalogue as one CPSV-AP JSON-LD graph (services, organisations, events)."""
    bundles = list(ServiceBundle.objects.filter(is_active=True).select_related("lead_organisation"))
    events_by_item: dict[int, list[str]] = {}
    for link in BundleItem.objects.filter(bundle__is_active=True).select_related("bundle"):
        events_by_item.setdefault(link.item_id, []).append(f"{BASE_URI}services/bundles/{link.bundle.slug}/")
    items = list(public_items())
    organisations = {item.organisation for item in items} | {
        bundle.lead_organisation for bundle in bundles if bundle.lead_organisation
    }
    graph: list[dict[str, Any]] = [_service(item, events_by_item.get(item.pk, [])) for item in items]
    for bundle in bundles:
        graph.append(
            {
                "@id": f"{BASE_URI}services/bundles/{bundle.slug}/",
                "@type": "cv:LifeEvent" if bundle.event_kind == EventKind.LIFE else "cv:BusinessEvent",
                "dct:identifier": bundle.seed_key or bundle.slug,
                "dct:title": _text(bundle.name),
                "dct:description": _text(bundle.description or bundle.name),
            }
        )
    for organisation in sorted(organisations, key=lambda organisation: organisation.code):
        graph.append(
            {
                "@id": f"{BASE_URI}organisations/{organisation.code}/",
                "@type": "cv:PublicOrganisation",
                "dct:identifier": organisation.code,
                "skos:prefLabel": _text(organisation.name),
            }
        )
    return {"@context": CPSV_CONTEXT, "@graph": graph}
