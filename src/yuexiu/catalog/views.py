"""Pages of the service catalogue: the public portal (browse, search, item and bundle pages, exports)
and the staff pages (guide editing and review, guide checks, import)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.core.validators import URLValidator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from yuexiu.catalog import exports, selectors, services
from yuexiu.catalog.content import (
    ELEMENT_LABELS,
    HANDLING_TYPE_LABELS,
    LINE_FORMATS,
    ONLINE_DEPTH_LABELS,
    SERVICE_OBJECT_LABELS,
    LineError,
    format_lines,
    parse_lines,
)
from yuexiu.catalog.models import EventKind, ItemType, ServiceItem
from yuexiu.core import audit, tabular
from yuexiu.core.errors import DomainError, NotFound, PermissionDeniedError
from yuexiu.core.models import AuditOutcome, Organisation, OrganisationKind, User
from yuexiu.core.public_cache import cache_public_page
from yuexiu.core.text_limits import TextLimit, form_message
from yuexiu.core.uploads import UploadTooLarge, read_upload
from yuexiu.core.views import staff_required


def _not_found(request: HttpRequest, error: DomainError) -> HttpResponse:
    return render(request, "core/error.html", {"message": error.message}, status=404)


# ---- public portal ---------------------------------------------------------------------------------


@cache_public_page
def catalogue_home(request: HttpRequest) -> HttpResponse:
    departments = (
        Organisation.objects.filter(kind=OrganisationKind.DEPARTMENT, service_items__is_active=True)
        .distinct()
        .order_by("sort_order")
    )
    life_bundles = list(selectors.list_bundles(event_kind=EventKind.LIFE))
    business_bundles = list(selectors.list_bundles(event_kind=EventKind.BUSINESS))
    promises = selectors.bundle_promises([*life_bundles, *business_bundles])
    for bundle in (*life_bundles, *business_bundles):
        bundle.promise = promises[bundle.pk]  # type: ignore[attr-defined]  # read by the template
    return render(
        request,
        "catalog/home.html",
        {
            "life_bundles": life_bundles,
            "business_bundles": business_bundles,
            "bundle_count": len(life_bundles) + len(business_bundles),
            "departments": departments,
            "subdistricts": Organisation.objects.filter(kind=OrganisationKind.SUBDISTRICT).order_by(
                "sort_order", "code"
            ),
            "item_count": selectors.public_items().count(),
            "citywide_count": selectors.count_citywide_items(),
        },
    )


@cache_public_page
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:50]
    results = selectors.search_catalogue(query)
    context = {"query": query, "results": results}
    template = "catalog/_search_results.html" if request.headers.get("HX-Request") else "catalog/search.html"
    return render(request, template, context)


@cache_public_page
def item_list(request: HttpRequest) -> HttpResponse:
    department = request.GET.get("department", "")[:32]
    subdistrict = request.GET.get("subdistrict", "")[:32]
    item_type = request.GET.get("type", "")
    if item_type not in ItemType.values:
        item_type = ""
    citywide = {"1": True, "0": False}.get(request.GET.get("citywide", ""))
    items = selectors.list_items(
        organisation_code=department, subdistrict_code=subdistrict, item_type=item_type, citywide=citywide
    )
    page = Paginator(items, 30).get_page(request.GET.get("page"))
    scope = Organisation.objects.filter(code__in=[code for code in (department, subdistrict) if code]).first()
    return render(
        request,
        "catalog/item_list.html",
        {"page": page, "scope": scope, "item_type": item_type, "types": ItemType.choices, "citywide": citywide},
    )


def _guide_context(item: ServiceItem, version: Any) -> dict[str, Any]:
    content = version.content
    return {
        "item": item,
        "version": version,
        "content": content,
        "labels": ELEMENT_LABELS,
        "service_object": SERVICE_OBJECT_LABELS.get(content.get("service_object", ""), ""),
        "handling_type": HANDLING_TYPE_LABELS.get(content.get("handling_type", ""), ""),
        "online_depth": ONLINE_DEPTH_LABELS.get(content.get("online_depth", ""), ""),
        "versions": selectors.list_public_versions(item),
    }


@cache_public_page
def item_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        item = selectors.get_item(slug)
    except NotFound as error:
        return _not_found(request, error)
    context = _guide_context(item, item.current_version)
    context["bundles"] = item.bundles.filter(is_active=True)
    context["citywide"] = item.citywide.all()
    context["intake"] = item.intake_organisations.order_by("sort_order", "code")
    return render(request, "catalog/item_detail.html", context)


@cache_public_page
def item_version(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    try:
        item = selectors.get_item(slug)
        version = selectors.get_public_version(item, number)
    except NotFound as error:
        return _not_found(request, error)
    context = _guide_context(item, version)
    context["changes"] = selectors.diff_with_previous(version, public=True)
    context["is_history"] = True
    return render(request, "catalog/item_detail.html", context)


@cache_public_page
def bundle_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        bundle = selectors.get_bundle(slug)
    except NotFound as error:
        return _not_found(request, error)
    merged = selectors.merge_bundle(bundle)
    promise = selectors.bundle_promise(bundle)
    links = bundle.bundleitem_set.all()
    context: dict[str, Any] = {
        "bundle": bundle,
        "promise": promise,
        "excluded_steps": [
            (link.item.name, "、".join(promise.excluded_steps_of(link.item.name)))
            for link in links
            if promise.excluded_steps_of(link.item.name)
        ],
        "merged": merged,
        "links": bundle.bundleitem_set.all(),
        "items_compiling": selectors.ITEMS_COMPILING,
    }
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        context["precheck"] = services.precheck_bundle_form(merged=merged, data=request.POST)
        values = {field.key: request.POST.get(field.key, "")[:200] for field in merged.fields}
        errors = context["precheck"]["errors"]
    context["rows"] = [
        {"field": field, "value": values.get(field.key, ""), "error": errors.get(field.key, "")}
        for field in merged.fields
    ]
    return render(request, "catalog/bundle_detail.html", context)


def catalogue_export(request: HttpRequest, file_format: str) -> HttpResponse:
    if file_format not in exports.EXPORT_CONTENT_TYPES:
        raise Http404("不支持的导出格式")
    response = HttpResponse(
        exports.export_catalogue(file_format), content_type=exports.EXPORT_CONTENT_TYPES[file_format]
    )
    response["Content-Disposition"] = f'attachment; filename="yuexiu-catalogue.{file_format}"'
    return response


# ---- staff: guide editing --------------------------------------------------------------------------


LIMIT_UNIT_CHOICES = [("working_days", "工作日"), ("natural_days", "自然日")]


class GuideForm(forms.Form):
    service_object = forms.ChoiceField(
        label="服务对象", required=False, choices=[("", "未填写"), *SERVICE_OBJECT_LABELS.items()]
    )
    applicants = forms.CharField(
        label="申请人范围", required=False, max_length=TextLimit.COMMENT, widget=forms.Textarea(attrs={"rows": 2})
    )
    statutory_limit = forms.IntegerField(label="法定办结时限（天数）", required=False, min_value=0, max_value=3650)
    statutory_limit_unit = forms.ChoiceField(label="法定办结时限单位", choices=LIMIT_UNIT_CHOICES, required=False)
    promised_limit = forms.IntegerField(
        label="承诺办结时限（天数）",
        required=False,
        min_value=0,
        max_value=3650,
        help_text="0 表示当场办结（即办件）。",
    )
    promised_limit_unit = forms.ChoiceField(label="承诺办结时限单位", choices=LIMIT_UNIT_CHOICES, required=False)
    handling_type = forms.ChoiceField(
        label="办件类型", required=False, choices=[("", "未填写"), *HANDLING_TYPE_LABELS.items()]
    )
    fee_charged = forms.TypedChoiceField(
        label="是否收费",
        required=False,
        choices=[("", "未填写"), ("false", "不收费"), ("true", "收费")],
        coerce=lambda value: {"true": True, "false": False}.get(value),
        empty_value=None,
    )
    fee_standard = forms.CharField(label="收费标准", required=False, max_length=TextLimit.FIELD)
    fee_basis = forms.CharField(label="收费依据", required=False, max_length=TextLimit.FIELD)
    legal_basis = forms.CharField(
        label="设定依据", required=False, max_length=TextLimit.DOCUMENT, widget=forms.Textarea(attrs={"rows": 4})
    )
    acceptance_conditions = forms.CharField(
        label="受理条件", required=False, max_length=TextLimit.DOCUMENT, widget=forms.Textarea(attrs={"rows": 3})
    )
    materials = forms.CharField(
        label="申请材料", required=False, max_length=TextLimit.DOCUMENT, widget=forms.Textarea(attrs={"rows": 6})
    )
    steps = forms.CharField(
        label="办理流程", required=False, max_length=TextLimit.DOCUMENT, widget=forms.Textarea(attrs={"rows": 4})
    )
    places = forms.CharField(
        label="办理地点", required=False, max_length=TextLimit.DOCUMENT, widget=forms.Textarea(attrs={"rows": 2})
    )
    hours = forms.CharField(label="办理时间", required=False, max_length=TextLimit.LINE)
    quantity_limit = forms.CharField(
        label="数量限制", required=False, max_length=TextLimit.LINE, help_text="无数量限制的填写“无数量限制”。"
    )
    onsite_visits = forms.IntegerField(label="到办事现场次数", required=False, min_value=0, max_value=10)
    onsite_visits_note = forms.CharField(
        label="到现场次数说明",
        required=False,
        max_length=TextLimit.LINE,
        help_text="次数因情形而异时填写，如：邮寄送达 0 次；现场领取 1 次。",
    )
    online_url = forms.CharField(
        label="网上办理地址",
        required=False,
        max_length=TextLimit.FIELD,
        validators=[
            URLValidator(schemes=["http", "https"], message="网上办理地址应为以 http:// 或 https:// 开头的网址。")
        ],
    )
    online_depth = forms.ChoiceField(label="网办深度", required=False, choices=list(ONLINE_DEPTH_LABELS.items()))
    result_name = forms.CharField(label="审批结果名称", required=False, max_length=TextLimit.TITLE)
    result_validity = forms.CharField(
        label="有效期与延期", required=False, max_length=TextLimit.FIELD, widget=forms.Textarea(attrs={"rows": 2})
    )
    delivery = forms.CharField(
        label="结果送达方式", required=False, max_length=TextLimit.DOCUMENT, widget=forms.Textarea(attrs={"rows": 2})
    )
    consultation = forms.CharField(label="咨询方式", required=False, max_length=TextLimit.LINE)
    complaint = forms.CharField(label="监督投诉方式", required=False, max_length=TextLimit.LINE)
    faq = forms.CharField(
        label="常见问题", required=False, max_length=TextLimit.DOCUMENT, widget=forms.Textarea(attrs={"rows": 3})
    )
    caveats = forms.CharField(
        label="待核实事项（仅工作人员可见）",
        required=False,
        max_length=TextLimit.DOCUMENT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    conflicts_resolved = forms.BooleanField(
        label="已核实来源冲突，确认本稿取值",
        required=False,
        help_text="勾选后清除来源冲突提示，核实情况请写入修改说明。",
    )
    change_summary = forms.CharField(label="修改说明", max_length=TextLimit.FIELD)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if getattr(field, "max_length", None):
                field.error_messages["max_length"] = form_message(str(field.label), field.max_length)
            if isinstance(field, forms.IntegerField):
                field.error_messages["max_value"] = f"{field.label}不能大于 %(limit_value)s。"
                field.error_messages["min_value"] = f"{field.label}不能小于 %(limit_value)s。"
                field.error_messages["invalid"] = f"{field.label}应为整数。"
        for name, help_text in LINE_FORMATS.items():
            if name in self.fields:
                self.fields[name].help_text = f"每行一项：{help_text}" if "|" in help_text else help_text

    def clean(self) -> dict[str, Any]:
        """Every line of every list element is read here, so one response lists all the problems:
        field errors, bad lines and (after saving is tried) the guide document's own checks."""
        data = super().clean()
        for name in LINE_FORMATS:
            if name in self.fields and isinstance(data.get(name), str):
                try:
                    parse_lines(name, data[name])
                except LineError as error:
                    self.add_error(name, str(error))
        return data

    @classmethod
    def initial_from(cls, content: dict[str, Any], change_summary: str) -> dict[str, Any]:
        initial: dict[str, Any] = {"change_summary": change_summary}
        for name in cls.base_fields:
            if name in LINE_FORMATS:
                initial[name] = format_lines(name, content.get(name, []))
            elif name in ("statutory_limit", "promised_limit"):
                limit = content.get(name)
                initial[name] = limit["value"] if limit else None
                initial[f"{name}_unit"] = limit["unit"] if limit else "working_days"
            elif name.endswith("_unit"):
                continue
            elif name == "fee_charged":
                value = content.get(name)
                initial[name] = "" if value is None else ("true" if value else "false")
            elif name not in ("change_summary", "conflicts_resolved"):
                initial[name] = content.get(name, "")
        return initial


def _staff(request: HttpRequest) -> User:
    """The signed-in staff user, who must hold one of the guide roles (``services.GUIDE_ROLES``)."""
    user: User = request.user  # type: ignore[assignment]  # staff_required
    if not services.can_work_on_guides(user):
        raise PermissionDenied("该页面仅限办事指南编辑、审核和监督人员使用。")
    return user


@staff_required
def guide_workbench(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    editable = services.editable_organisation_ids(user)
    query = request.GET.get("q", "").strip()[:50]
    items = ServiceItem.objects.filter(organisation_id__in=editable, is_active=True).select_related("organisation")
    if query:
        items = items.filter(name__contains=query)
    return render(
        request,
        "catalog/guide_workbench.html",
        {
            "open_versions": selectors.list_open_versions(user),
            "items": items.order_by("organisation__sort_order", "base_code")[:200],
            "query": query,
            "can_review": services.can_review(user),
        },
    )


@staff_required
@require_POST
def start_draft(request: HttpRequest, slug: str) -> HttpResponse:
    item = ServiceItem.objects.filter(slug=slug).first()
    if item is None:
        raise Http404("未找到该事项")
    try:
        draft = services.create_draft(item=item, editor=_staff(request))
    except PermissionDeniedError as error:
        raise PermissionDenied(error.message) from None
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("catalog:guide_workbench")
    return redirect("catalog:guide_version", pk=draft.pk)


@staff_required
def guide_version(request: HttpRequest, pk: int) -> HttpResponse:
    user = _staff(request)
    try:
        version = selectors.access_version(user, pk)
    except NotFound as error:
        return _not_found(request, error)
    item = version.item
    can_edit = version.is_editable and services.can_edit(user, item)
    form = GuideForm(initial=GuideForm.initial_from(version.content, version.change_summary))
    if request.method == "POST" and not services.can_edit(user, item):
        raise PermissionDenied(f"您没有编辑“{item.name}”办事指南的权限。")
    if request.method == "POST" and not version.is_editable:
        messages.error(request, f"该版本状态为“{version.get_status_display()}”，不能修改。")
        return redirect("catalog:guide_version", pk=version.pk)
    if request.method == "POST":
        form = GuideForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            change_summary = data.pop("change_summary")
            conflicts_resolved = data.pop("conflicts_resolved")
            try:
                content = services.content_from_text(data, previous=version.content)
                if conflicts_resolved:
                    content["conflicts"] = []
                services.save_draft(version=version, editor=user, content=content, change_summary=change_summary)
            except DomainError as error:
                problems = error.details.get("errors") or []
                for problem in problems:
                    if isinstance(problem, str):  # a text over its limit (core.text_limits.TextTooLong)
                        form.add_error("change_summary", problem)
                        continue
                    element = problem["element"]
                    form.add_error(element if element in form.fields else None, problem["reason"])
                if not problems:
                    form.add_error(None, error.message)
            else:
                messages.success(request, "已保存。")
                return redirect("catalog:guide_version", pk=version.pk)
    return render(
        request,
        "catalog/guide_version.html",
        {
            "version": version,
            "item": item,
            "form": form,
            "can_edit": can_edit,
            "can_review": services.can_review(user) and version.status == "submitted",
            "findings": services.check_version(version),
            "changes": selectors.diff_with_previous(version),
            "sources": version.content.get("sources", {}),
            "conflicts": version.content.get("conflicts", []),
            "labels": ELEMENT_LABELS,
        },
    )


@staff_required
@require_POST
def guide_version_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user = _staff(request)
    try:
        version = selectors.access_version(user, pk)
        if action == "submit":
            services.submit_draft(version=version, editor=user)
            messages.success(request, "已提交审核。")
        elif action == "publish":
            services.publish_version(version=version, reviewer=user)
            messages.success(request, f"已发布第 {version.number} 版。")
        elif action == "return":
            services.return_version(version=version, reviewer=user, reason=request.POST.get("reason", ""))
            messages.success(request, "已退回。")
        else:
            raise Http404("未知操作")
    except PermissionDeniedError as error:
        raise PermissionDenied(error.message) from None
    except NotFound as error:
        return _not_found(request, error)
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("catalog:guide_version", pk=pk)


# ---- staff: guide checks and import ------------------------------------------------------------------


@staff_required
def guide_checks(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    run = selectors.latest_check_run()
    department = request.GET.get("department", "")[:32]
    findings = selectors.list_findings(run, user, organisation_code=department) if run else None
    page = Paginator(findings, 50).get_page(request.GET.get("page")) if findings is not None else None
    reports = selectors.findings_by_department(run, user) if run else []
    return render(
        request,
        "catalog/guide_checks.html",
        {
            "run": run,
            "reports": reports,
            "visible_total": sum(report.finding_count for report in reports),
            "page": page,
            "department": department,
            "can_run": services.can_review(user),
            "citywide_count": selectors.count_citywide_items(),
        },
    )


@staff_required
@require_POST
def run_guide_checks(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    if not services.can_review(user):
        raise PermissionDenied("只有办事指南审核人员可以发起检查。")
    run = services.run_guide_checks(triggered_by=user)
    messages.success(request, f"检查完成：{run.item_count} 个事项，发现问题 {run.finding_count} 条。")
    return redirect("catalog:guide_checks")


@staff_required
def guide_checks_export(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    run = selectors.latest_check_run()
    if run is None:
        raise Http404("尚未运行检查")
    department = request.GET.get("department", "")[:32]
    rows = [
        [
            finding.organisation.name,
            finding.item.implementation_code,
            finding.item.name,
            finding.get_rule_label(),
            ELEMENT_LABELS.get(finding.element, finding.element),
            finding.message,
        ]
        for finding in selectors.list_findings(run, user, organisation_code=department)
    ]
    data = tabular.write_xlsx(
        ["实施主体", "实施编码", "事项名称", "规则", "要素", "问题描述"], rows, sheet_title="办事指南检查"
    )
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="guide-checks-{run.pk}.xlsx"'
    return response


@staff_required
def catalogue_import(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    if not services.can_review(user):
        raise PermissionDenied("只有办事指南审核人员可以导入事项目录。")
    result = errors = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, "请选择要导入的文件。")
        else:
            try:
                data = read_upload(upload, limit=settings.CATALOGUE_IMPORT_MAX_BYTES)
                result = services.import_catalogue(data=data, importer=user)
            except UploadTooLarge as error:
                messages.error(request, error.message)
            except DomainError as error:
                messages.error(request, error.message)
                errors = error.details.get("errors")
                # The service rolled back, its audit event with it: the refusal is recorded here.
                audit.record_event(
                    action="catalog.import_failed",
                    actor=user,
                    outcome=AuditOutcome.FAILED,
                    changes={"file": upload.name[:200], "errors": (errors or [])[:100]},
                    message=error.message[:500],
                )
    return render(
        request,
        "catalog/import.html",
        {
            "result": result,
            "errors": errors,
            "columns": services.IMPORT_COLUMNS,
            "formats": {ELEMENT_LABELS[element]: text for element, text in LINE_FORMATS.items()},
        },
    )
