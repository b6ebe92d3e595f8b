"""Reads of the service catalogue: public browsing and search, bundles with their merged form and
materials, version history with diffs, guide-check reports, and the staff's drafts."""

from __future__ import annotations

import difflib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, overload

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from yuexiu.catalog import merge, services
from yuexiu.catalog.content import ELEMENT_LABELS, describe
from yuexiu.catalog.models import (
    BundleItem,
    CitywideHandling,
    GuideCheckRun,
    GuideFinding,
    GuideStatus,
    GuideVersion,
    ItemType,
    ServiceBundle,
    ServiceItem,
)
from yuexiu.catalog.search import SearchDocument, SearchIndex
from yuexiu.core import audit
from yuexiu.core.errors import NotFound
from yuexiu.core.models import Organisation, RuleParameter, User
from yuexiu.core.public_cache import current_public_revision
from yuexiu.core.selectors import scope_to_user

PUBLIC_STATUSES = (GuideStatus.PUBLISHED, GuideStatus.SUPERSEDED)


def public_items() -> QuerySet[ServiceItem]:
    return (
        ServiceItem.objects.filter(is_active=True, current_version__isnull=False)
        .select_related("organisation", "current_version")
        .prefetch_related("citywide")
    )


def list_items(
    *, organisation_code: str = "", subdistrict_code: str = "", item_type: str = "", citywide: bool | None = None
) -> QuerySet[ServiceItem]:
    """Public items, filtered by implementing organisation, by subdistrict (implemented there or
    accepted there), by item type and by whether they have a 全市通办 mode."""
    items = public_items()
    if organisation_code:
        items = items.filter(organisation__code=organisation_code)
    if subdistrict_code:
        items = items.filter(
            Q(organisation__code=subdistrict_code) | Q(intake_organisations__code=subdistrict_code)
        ).distinct()
    if item_type:
        items = items.filter(item_type=item_type)
    if citywide is not None:
        items = items.filter(citywide__isnull=not citywide).distinct()
    return items.order_by("organisation__sort_order", "base_code", "id")


def count_citywide_items() -> int:
    """Number of active items with at least one 全市通办 mode."""
    return CitywideHandling.objects.filter(item__is_active=True).values("item").distinct().count()


# ---- search ----------------------------------------------------------------------------------


_index_lock = threading.Lock()
_index_cache: dict[str, Any] = {}


def _document(item: ServiceItem, bundle_names: list[str]) -> SearchDocument:
    content = item.current_version.content if item.current_version else {}
    body = " ".join(
        [*content.get("acceptance_conditions", []), *(material["name"] for material in content.get("materials", []))]
    )
    keywords = " ".join(
        [
            item.search_terms,
            item.base_code,
            item.implementation_code,
            item.organisation.name,
            item.get_item_type_display(),
            *bundle_names,
        ]
    )
    return SearchDocument(key=str(item.pk), name=item.name, keywords=keywords, body=body)


def search_index() -> SearchIndex:
    """The search index over public items, rebuilt when the public content changes (one primary-key
    query to find out: ``core.public_cache.current_public_revision``). Shared by the threads of one
    process."""
    revision = current_public_revision()
    cached = _index_cache.get("index")
    if cached is not None and cached[0] == revision:
        return cached[1]
    with _index_lock:
        cached = _index_cache.get("index")
        if cached is not None and cached[0] == revision:
            return cached[1]
        bundle_names: dict[int, list[str]] = {}
        for item_id, name in BundleItem.objects.values_list("item_id", "bundle__name"):
            bundle_names.setdefault(item_id, []).append(name)
        index = SearchIndex(_document(item, bundle_names.get(item.pk, [])) for item in public_items())
        _index_cache["index"] = (revision, index)
        return index


class RankedItems(Sequence[ServiceItem]):
    """Public items in search-rank order, loaded a slice at a time (one query per slice); ``len()`` is
    the number of matches, so ``core.pagination.paginate`` gives the API's ``count``."""

    def __init__(self, ids: list[int]) -> None:
        self._ids = ids

    def __len__(self) -> int:
        return len(self._ids)

    @overload
    def __getitem__(self, index: int) -> ServiceItem: ...

    @overload
    def __getitem__(self, index: slice) -> list[ServiceItem]: ...

    def __getitem__(self, index: int | slice) -> ServiceItem | list[ServiceItem]:
        if isinstance(index, int):
            return self[index : index + 1 or None][0]
        ids = self._ids[index]
        found = {item.pk: item for item in public_items().filter(pk__in=ids)} if ids else {}
        return [found[pk] for pk in ids if pk in found]


def rank_items(query: str) -> RankedItems:
    """Every public item matching ``query`` (partial words, words in any order, pinyin, initials, one
    wrong character), best first; empty for a blank query. Queries are cut to 50 characters."""
    query = (query or "").strip()[:50]
    hits = search_index().search(query, limit=None) if query else []
    return RankedItems([int(hit.key) for hit in hits])


@dataclass
class SearchResults:
    items: list[ServiceItem]
    bundles: list[ServiceBundle]
    total: int = 0  # items matching, of which ``items`` are the first ones


def search_catalogue(query: str, *, limit: int = 20) -> SearchResults:
    """The best ``limit`` items for ``query`` (see ``rank_items``), how many items match in all, and the
    bundles whose names match the query (same index rules, one wrong character excepted)."""
    query = (query or "").strip()[:50]
    if not query:
        return SearchResults(items=[], bundles=[], total=0)
    ranked = rank_items(query)
    bundles = list(ServiceBundle.objects.filter(is_active=True).select_related("lead_organisation"))
    bundle_index = SearchIndex(SearchDocument(key=str(bundle.pk), name=bundle.name) for bundle in bundles)
    by_id = {bundle.pk: bundle for bundle in bundles}
    bundle_hits = [by_id[int(hit.key)] for hit in bundle_index.search(query, limit=5) if hit.matched != "fuzzy"]
    return SearchResults(items=ranked[:limit], bundles=bundle_hits, total=len(ranked))


# ---- items and versions --------------------------------------------------------------------------


def get_item(slug: str) -> ServiceItem:
    item = public_items().prefetch_related("intake_organisations", "bundles").filter(slug=slug).first()
    if item is None:
        raise NotFound("未找到该事项，可能已下线或网址有误。")
    return item


def get_public_version(item: ServiceItem, number: int) -> GuideVersion:
    """A published or historical version of ``item``'s guide (drafts are not public)."""
    version = item.versions.filter(number=number, status__in=PUBLIC_STATUSES).first()
    if version is None:
        raise NotFound(f"“{item.name}”没有第 {number} 版公开的办事指南。")
    return version


def list_public_versions(item: ServiceItem) -> QuerySet[GuideVersion]:
    return item.versions.filter(status__in=PUBLIC_STATUSES).select_related("reviewed_by").order_by("-number")


@dataclass
class ElementDiff:
    element: str
    label: str
    removed: list[str]
    added: list[str]


# Elements for the editors only: research notes on where values came from.
STAFF_ONLY_ELEMENTS = ("conflicts", "sources", "caveats")


def public_content(content: dict[str, Any]) -> dict[str, Any]:
    """A guide document as citizens and API clients see it: without the editors' research notes
    (``STAFF_ONLY_ELEMENTS`` and each legal basis's ``source``)."""
    public = {key: value for key, value in content.items() if key not in STAFF_ONLY_ELEMENTS}
    public["legal_basis"] = [
        {key: value for key, value in basis.items() if key != "source"} for basis in content.get("legal_basis", [])
    ]
    return public


def diff_versions(before: dict[str, Any], after: dict[str, Any], *, public: bool = False) -> list[ElementDiff]:
    """Per element, the lines removed and added between two guide documents (readable Chinese);
    ``public`` leaves out the editors' elements (``STAFF_ONLY_ELEMENTS``)."""
    old, new = describe(before), describe(after)
    changes = []
    for element, label in ELEMENT_LABELS.items():
        if public and element in STAFF_ONLY_ELEMENTS:
            continue
        old_lines, new_lines = old.get(element, []), new.get(element, [])
        if old_lines == new_lines:
            continue
        removed, added = [], []
        for line in difflib.ndiff(old_lines, new_lines):
            if line.startswith("- "):
                removed.append(line[2:])
            elif line.startswith("+ "):
                added.append(line[2:])
        changes.append(ElementDiff(element=element, label=label, removed=removed, added=added))
    return changes


def previous_public_version(version: GuideVersion) -> GuideVersion | None:
    return (
        GuideVersion.objects.filter(item_id=version.item_id, number__lt=version.number, status__in=PUBLIC_STATUSES)
        .order_by("-number")
        .first()
    )


def diff_with_previous(version: GuideVersion, *, public: bool = False) -> list[ElementDiff]:
    """For a draft: the diff against the item's current guide; for a public version: against the
    public version before it. ``public``: as shown to citizens (see ``diff_versions``)."""
    if version.status in PUBLIC_STATUSES:
        previous = previous_public_version(version)
    else:
        previous = version.item.current_version
    return diff_versions(previous.content if previous else {}, version.content, public=public)


# ---- bundles ---------------------------------------------------------------------------------------


# Said wherever a bundle has no constituent items: the national and Guangdong sources read so far
# (data/one-thing-2024.yaml, domain/rules.md §3) name the bundle but not the matters it joins, and
# none are invented. Public text, so it speaks of what the citizen can do instead.
ITEMS_COMPILING = (
    "所含事项整理中：国家和广东已公布的资料列出了这件“一件事”，但尚未列出它包含哪些具体事项，"
    "我们正在整理。整理完成前暂不受理网上申请，如需办理请到区政务服务中心窗口咨询。"
)


def is_licensing_item(item: ServiceItem) -> bool:
    """Whether ``item`` is a 行政许可 (the catalogue's 事项类型), so that the time limits of
    《中华人民共和国行政许可法》 govern its cases: decision within 20 working days, one extension of 10
    (第四十二条), 45 for joint handling (第四十二条第二款, 第二十六条), the licence served within 10 after
    the decision (第四十四条). Registrations that the catalogue types as 行政许可 (登记注册) count too
    (第十二条第五项)."""
    return item.item_type == ItemType.LICENSING


def list_bundles(*, event_kind: str = "") -> QuerySet[ServiceBundle]:
    bundles = ServiceBundle.objects.filter(is_active=True).select_related("lead_organisation")
    if event_kind:
        bundles = bundles.filter(event_kind=event_kind)
    return bundles.annotate(item_count=Count("bundleitem")).order_by("event_kind", "id")


def get_bundle(slug: str) -> ServiceBundle:
    bundle = (
        ServiceBundle.objects.filter(is_active=True, slug=slug)
        .select_related("lead_organisation")
        .prefetch_related(
            Prefetch(
                "bundleitem_set",
                queryset=BundleItem.objects.select_related("item__organisation", "item__current_version").order_by(
                    "position"
                ),
            )
        )
        .first()
    )
    if bundle is None:
        raise NotFound("未找到该“一件事”，可能已下线或网址有误。")
    return bundle


@dataclass(frozen=True)
class BundleStep:
    """One step of a bundle's dated flow; ``limit_days`` in working days, ``None`` when not known."""

    name: str
    limit_days: int | None
    confidence: str


@dataclass(frozen=True)
class BundlePeriod:
    """One dated version of a bundle's flow (a row of its ``flow_rule``): from ``effective_from`` to
    ``effective_to`` (the day before the next version; ``None`` while open-ended)."""

    effective_from: date
    effective_to: date | None
    rule: str
    promised_limit_days: int | None
    steps: list[BundleStep]
    confidence: str
    source_document: str
    source_url: str
    note: str


LIMIT_EXCLUSION_LABELS = {"card_making": "制卡", "postage": "邮寄"}


@dataclass(frozen=True)
class BundlePromise:
    """What a bundle promises on a date. ``days``: working days, ``None`` when no limit is set or the
    rule in force has not been read (``is_uncertain``); ``is_fastest``: the source says "最快 N 个工作日";
    ``exclusions``: the steps the limit does not count (``ServiceBundle.limit_exclusions``);
    ``period`` / ``periods``: the dated flow in force and all its versions (bundles with a
    ``flow_rule`` only)."""

    days: int | None
    is_fastest: bool
    exclusions: list[dict[str, Any]]
    note: str
    period: BundlePeriod | None = None
    periods: tuple[BundlePeriod, ...] = ()

    @property
    def is_uncertain(self) -> bool:
        return self.period is not None and self.days is None

    @property
    def excluded_labels(self) -> str:
        """``制卡、邮寄`` for the newborn bundle, ``""`` when nothing is left out."""
        return "、".join(str(entry.get("label") or "") for entry in self.exclusions if entry.get("label"))

    @property
    def text(self) -> str:
        """The limit as the public reads it: ``最快 5 个工作日（制卡、邮寄时间不计入）``."""
        if self.days is None:
            if self.is_uncertain and self.period is not None:
                return f"办理时限待核实（{self.period.rule}规定的时限尚未核实）"
            return "未公布"
        text = f"{'最快 ' if self.is_fastest else ''}{self.days} 个工作日"
        if self.excluded_labels:
            text += f"（{self.excluded_labels}时间不计入）"
        return text

    def excluded_steps_of(self, item_name: str) -> list[str]:
        """Labels of the excluded steps that belong to ``item_name`` (制卡 for 社会保障卡申领)."""
        return [str(entry["label"]) for entry in self.exclusions if item_name in (entry.get("items") or [])]


def bundle_periods(bundle: ServiceBundle, rows: Sequence[RuleParameter] | None = None) -> tuple[BundlePeriod, ...]:
    """The dated versions of ``bundle``'s flow, oldest first (empty without a ``flow_rule``). ``rows``:
    the rule rows already loaded (any keys), to read many bundles with one query."""
    if not bundle.flow_rule:
        return ()
    if rows is None:
        rows = RuleParameter.objects.filter(key=bundle.flow_rule)
    rows = sorted((row for row in rows if row.key == bundle.flow_rule), key=lambda row: row.effective_from)
    periods = []
    for position, row in enumerate(rows):
        value = row.value if isinstance(row.value, dict) else {}
        following = rows[position + 1].effective_from if position + 1 < len(rows) else None
        end = row.effective_to or (following - timedelta(days=1) if following else None)
        periods.append(
            BundlePeriod(
                effective_from=row.effective_from,
                effective_to=end,
                rule=str(value.get("rule") or ""),
                promised_limit_days=value.get("promised_limit_days"),
                steps=[
                    BundleStep(
                        name=str(step.get("name") or ""),
                        limit_days=step.get("limit_days"),
                        confidence=str(step.get("confidence") or row.confidence),
                    )
                    for step in value.get("steps") or []
                ],
                confidence=row.confidence,
                source_document=row.source_document,
                source_url=row.source_url,
                note=row.note,
            )
        )
    return tuple(periods)


def bundle_promises(bundles: Sequence[ServiceBundle], on: date | None = None) -> dict[int, BundlePromise]:
    """``bundle_promise`` of each bundle by its id, reading every dated flow in one query."""
    keys = {bundle.flow_rule for bundle in bundles if bundle.flow_rule}
    rows = list(RuleParameter.objects.filter(key__in=keys)) if keys else []
    return {bundle.pk: bundle_promise(bundle, on, rows=rows) for bundle in bundles}


def bundle_promise(
    bundle: ServiceBundle, on: date | None = None, *, rows: Sequence[RuleParameter] | None = None
) -> BundlePromise:
    """The promise of ``bundle`` on ``on`` (default today, Asia/Shanghai). A bundle with a
    ``flow_rule`` takes its limit from the version in force that day (信用修复一件事: 58号令 practice to
    2026-03-31, 36号令 from 2026-04-01, whose limits are not known: ``days`` is ``None`` and
    ``is_uncertain``); a date before every version has no limit."""
    on = on or timezone.localdate()
    common = {
        "is_fastest": bundle.promised_limit_is_fastest,
        "exclusions": list(bundle.limit_exclusions or []),
        "note": bundle.promised_limit_note,
    }
    if not bundle.flow_rule:
        return BundlePromise(days=bundle.promised_limit_days, **common)
    periods = bundle_periods(bundle, rows)
    period = next(
        (
            entry
            for entry in reversed(periods)
            if entry.effective_from <= on and (entry.effective_to is None or on <= entry.effective_to)
        ),
        None,
    )
    days = period.promised_limit_days if period else None
    return BundlePromise(days=days, period=period, periods=periods, **common)


def merge_bundle(bundle: ServiceBundle) -> merge.MergedBundle:
    """The bundle's merged form (一表申请) and merged materials (一套材料), see ``catalog.merge``: each
    item's current guide, with the form fields and extra materials its bundle link names."""
    parts = []
    for link in bundle.bundleitem_set.all():
        content = dict(link.item.current_version.content) if link.item.current_version else {}
        if link.form_fields:
            content["form_fields"] = link.form_fields
        if link.materials:
            known = {material["name"] for material in content.get("materials", [])}
            content["materials"] = [
                *content.get("materials", []),
                *(material for material in link.materials if material["name"] not in known),
            ]
        parts.append(merge.BundlePart(name=link.item.name, content=content))
    return merge.merge_bundle(parts, evidence=services.current_evidence())


# ---- guide checks --------------------------------------------------------------------------------


def latest_check_run() -> GuideCheckRun | None:
    return GuideCheckRun.objects.filter(finished_at__isnull=False).first()


@dataclass
class DepartmentReport:
    organisation: Organisation
    finding_count: int
    item_count: int


def _scoped_findings(run: GuideCheckRun, viewer: User | None) -> QuerySet[GuideFinding]:
    findings = GuideFinding.objects.filter(run=run)
    return findings if viewer is None else scope_to_user(findings, viewer)


def findings_by_department(run: GuideCheckRun, viewer: User | None) -> list[DepartmentReport]:
    """Per implementing organisation the viewer may see (``None``: all): number of findings and of
    items with findings."""
    rows = (
        _scoped_findings(run, viewer)
        .values("organisation")
        .annotate(findings=Count("id"), items=Count("item", distinct=True))
    )
    organisations = Organisation.objects.in_bulk([row["organisation"] for row in rows])
    reports = [
        DepartmentReport(
            organisation=organisations[row["organisation"]], finding_count=row["findings"], item_count=row["items"]
        )
        for row in rows
    ]
    return sorted(reports, key=lambda report: (report.organisation.sort_order, report.organisation.code))


def list_findings(run: GuideCheckRun, viewer: User | None, *, organisation_code: str = "") -> QuerySet[GuideFinding]:
    """The run's findings the viewer may see (``None``: all), ordered by organisation and item."""
    findings = _scoped_findings(run, viewer).select_related("item", "organisation")
    if organisation_code:
        findings = findings.filter(organisation__code=organisation_code)
    return findings.order_by("organisation__sort_order", "item__base_code", "item_id", "rule", "element")


# ---- staff ---------------------------------------------------------------------------------------


def list_open_versions(viewer: User) -> QuerySet[GuideVersion]:
    """Drafts, submitted and returned versions the viewer may act on: editors see their
    organisations' drafts; reviewers see every submitted version."""
    versions = GuideVersion.objects.filter(status__in=(GuideStatus.DRAFT, GuideStatus.SUBMITTED, GuideStatus.RETURNED))
    condition = Q(item__organisation_id__in=services.editable_organisation_ids(viewer))
    if services.can_review(viewer):
        condition |= Q(status=GuideStatus.SUBMITTED)
    return versions.filter(condition).select_related("item__organisation", "created_by").order_by("-created_at")


def access_version(viewer: User, pk: int) -> GuideVersion:
    """A version for the staff page: editors of the item's organisation and reviewers only (citizens
    read public versions on the portal); ``NotFound`` otherwise, so other departments learn nothing."""
    version = GuideVersion.objects.select_related("item__organisation", "item__current_version").filter(pk=pk).first()
    if version is None:
        raise NotFound("未找到该指南版本。")
    if not (services.can_edit(viewer, version.item) or services.can_review(viewer)):
        raise audit.concealed(version, "未找到该指南版本。")
    return version
