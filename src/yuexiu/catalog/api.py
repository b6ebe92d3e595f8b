"""JSON API of the service catalogue: list, search and detail of items and bundles, and the exports."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from yuexiu.catalog import exports, selectors
from yuexiu.catalog.models import GuideVersion, ItemType, ServiceBundle, ServiceItem
from yuexiu.core.api import ERRORS, PageIn
from yuexiu.core.errors import NotFound
from yuexiu.core.pagination import paginate
from yuexiu.core.public_cache import cached_public_value
from yuexiu.core.text_limits import TextLimit, api_text

router = Router(tags=["事项目录"])


class ItemOut(Schema):
    slug: str
    name: str
    base_code: str
    implementation_code: str
    item_type: str
    item_type_label: str
    organisation_code: str
    organisation_name: str
    version: int | None
    citywide_modes: list[str]

    @staticmethod
    def resolve_item_type_label(obj: ServiceItem) -> str:
        return obj.get_item_type_display()

    @staticmethod
    def resolve_organisation_code(obj: ServiceItem) -> str:
        return obj.organisation.code

    @staticmethod
    def resolve_organisation_name(obj: ServiceItem) -> str:
        return obj.organisation.name

    @staticmethod
    def resolve_version(obj: ServiceItem) -> int | None:
        return obj.current_version.number if obj.current_version else None

    @staticmethod
    def resolve_citywide_modes(obj: ServiceItem) -> list[str]:
        return [entry.mode for entry in obj.citywide.all()]


class ItemPage(Schema):
    count: int
    items: list[ItemOut]


class GuideOut(Schema):
    number: int
    status: str
    published_at: Any = None
    change_summary: str
    content: dict[str, Any]

    @staticmethod
    def resolve_content(obj: GuideVersion) -> dict[str, Any]:
        return selectors.public_content(obj.content)


class ItemDetailOut(ItemOut):
    exercise_level: str
    source_url: str
    source_note: str
    confidence: str
    guide: GuideOut

    @staticmethod
    def resolve_guide(obj: ServiceItem) -> GuideVersion | None:
        return obj.current_version


class ItemFilter(PageIn):
    q: str | None = api_text(TextLimit.SHORT, description="关键词：支持部分词、拼音、拼音首字母，容忍一个错字")
    department: str | None = Field(None, max_length=32, description="实施主体编码")
    subdistrict: str | None = Field(None, max_length=32, description="街道编码（在该街道实施或受理）")
    item_type: Literal[tuple(ItemType.values)] | None = None  # type: ignore[valid-type]  # choices from the model
    citywide: bool | None = Field(None, description="是否支持全市通办")


@router.get("/catalog/items", response={200: ItemPage, **ERRORS}, summary="事项列表与搜索")
def list_items(request: HttpRequest, filters: Query[ItemFilter]) -> HttpResponse:
    """The page of items, as JSON cached per public revision and filters (the same for everyone)."""
    body = cached_public_value(
        "catalog.api.list_items",
        filters.model_dump_json(),
        lambda: ItemPage.model_validate(_items_page(filters)).model_dump_json(),
    )
    return HttpResponse(body, content_type="application/json; charset=utf-8")


def _items_page(filters: ItemFilter) -> dict[str, object]:
    if filters.q and filters.q.strip():
        return paginate(selectors.rank_items(filters.q), filters)
    items = selectors.list_items(
        organisation_code=filters.department or "",
        subdistrict_code=filters.subdistrict or "",
        item_type=filters.item_type or "",
        citywide=filters.citywide,
    )
    return paginate(items, filters)


@router.get("/catalog/items/{slug}", response={200: ItemDetailOut, **ERRORS}, summary="事项详情（现行办事指南）")
def get_item(request: HttpRequest, slug: str) -> ServiceItem:
    return selectors.get_item(slug)


@router.get("/catalog/items/{slug}/versions/{number}", response={200: GuideOut, **ERRORS}, summary="办事指南历史版本")
def get_item_version(request: HttpRequest, slug: str, number: int) -> GuideVersion:
    if not 1 <= number <= 1_000_000:
        raise NotFound("版本号无效。")
    return selectors.get_public_version(selectors.get_item(slug), number)


ITEMS_COMPILING = "所含事项整理中：来源尚未列出具体事项，暂不受理网上申请"


PROMISED_LIMIT = (
    "整体承诺时限（工作日），按今天适用的规定；null 表示未公布或现行规定的时限尚未核实（见 promised_limit_text）"
)


class BundleOut(Schema):
    slug: str
    name: str
    event_kind: str
    lead_organisation_code: str | None
    promised_limit_days: int | None = Field(description=PROMISED_LIMIT)
    promised_limit_text: str = Field(description="时限的完整说明，如“最快 5 个工作日（制卡、邮寄时间不计入）”")
    item_count: int
    items_compiling: bool = Field(description=ITEMS_COMPILING)
    confidence: str

    @staticmethod
    def resolve_lead_organisation_code(obj: ServiceBundle) -> str | None:
        return obj.lead_organisation.code if obj.lead_organisation else None

    @staticmethod
    def resolve_items_compiling(obj: ServiceBundle) -> bool:
        return obj.item_count == 0  # type: ignore[attr-defined]  # annotated by selectors.list_bundles

    @staticmethod
    def resolve_promised_limit_days(obj: ServiceBundle) -> int | None:
        return obj.promise.days  # type: ignore[attr-defined]  # set by list_bundles below

    @staticmethod
    def resolve_promised_limit_text(obj: ServiceBundle) -> str:
        return obj.promise.text  # type: ignore[attr-defined]


class MergedFieldOut(Schema):
    key: str
    label: str
    kind: str
    required: bool
    choices: list[str]
    asked_by: list[str]


class MergedMaterialOut(Schema):
    key: str
    name: str
    form: str
    copies: int
    required: bool
    substitute: str
    must_submit: bool
    needed_by: list[str]


class BundleDetailOut(Schema):
    slug: str
    name: str
    event_kind: str
    lead_organisation_code: str | None
    promised_limit_days: int | None = Field(description=PROMISED_LIMIT)
    promised_limit_text: str
    eligibility: list[str]
    items: list[ItemOut]
    items_compiling: bool = Field(description=ITEMS_COMPILING)
    merged_form: list[MergedFieldOut]
    merged_materials: list[MergedMaterialOut]
    source_url: str
    confidence: str


class BundleFilter(Schema):
    event_kind: Literal["life", "business"] | None = None


@router.get("/catalog/bundles", response={200: list[BundleOut], **ERRORS}, summary="一件事列表")
def list_bundles(request: HttpRequest, filters: Query[BundleFilter]) -> list[ServiceBundle]:
    bundles = list(selectors.list_bundles(event_kind=filters.event_kind or ""))
    promises = selectors.bundle_promises(bundles)
    for bundle in bundles:
        bundle.promise = promises[bundle.pk]  # type: ignore[attr-defined]  # read by BundleOut
    return bundles


@router.get(
    "/catalog/bundles/{slug}", response={200: BundleDetailOut, **ERRORS}, summary="一件事详情（一表申请、一套材料）"
)
def get_bundle(request: HttpRequest, slug: str) -> dict[str, object]:
    bundle = selectors.get_bundle(slug)
    merged = selectors.merge_bundle(bundle)
    items = [link.item for link in bundle.bundleitem_set.all()]
    promise = selectors.bundle_promise(bundle)
    return {
        "slug": bundle.slug,
        "name": bundle.name,
        "event_kind": bundle.event_kind,
        "lead_organisation_code": bundle.lead_organisation.code if bundle.lead_organisation else None,
        "promised_limit_days": promise.days,
        "promised_limit_text": promise.text,
        "eligibility": bundle.eligibility,
        "items": items,
        "items_compiling": not items,
        "merged_form": merged.fields,
        "merged_materials": [
            {**material.__dict__, "must_submit": material.must_submit} for material in merged.materials
        ],
        "source_url": bundle.source_url,
        "confidence": bundle.confidence,
    }


@router.get(
    "/catalog/export",
    response=ERRORS,
    summary="导出事项目录（xlsx / csv / CPSV-AP JSON-LD）",
    openapi_extra={
        "responses": {
            200: {
                "description": "目录文件",
                "content": {
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                        "schema": {"type": "string", "format": "binary"}
                    },
                    "text/csv": {"schema": {"type": "string"}},
                    "application/ld+json": {"schema": {"type": "object"}},
                },
            }
        }
    },
)
def export_catalogue(request: HttpRequest, format: Literal["xlsx", "csv", "jsonld"] = "jsonld") -> HttpResponse:
    response = HttpResponse(exports.export_catalogue(format), content_type=exports.EXPORT_CONTENT_TYPES[format])
    response["Content-Disposition"] = f'attachment; filename="yuexiu-catalogue.{format}"'
    return response
