"""Pages of case handling: applying online, the applicant's cases, the officers' queue, the case page
with the actions the viewer may take, window registration, and permission-checked file downloads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.apps import apps as django_apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from yuexiu.cases import selectors, services
from yuexiu.cases.models import (
    BundleCase,
    Case,
    CaseStatus,
    DeadlineExtension,
    DeliveryMethod,
    ExtensionStatus,
    HandoverMethod,
    ResultPlace,
    TransferDirection,
)
from yuexiu.cases.services import Upload
from yuexiu.catalog import selectors as catalog_selectors
from yuexiu.catalog.models import ServiceItem
from yuexiu.core import audit, identity
from yuexiu.core.calendar import get_calendar
from yuexiu.core.errors import DomainError, NotFound, PermissionDeniedError
from yuexiu.core.models import AccountType, Role, User
from yuexiu.core.text_limits import TextLimit
from yuexiu.core.views import staff_required
from yuexiu.core.workdays import LOCAL_TIMEZONE, provisional_note


def _item(slug: str) -> ServiceItem:
    item = (
        ServiceItem.objects.select_related("current_version", "organisation").filter(slug=slug, is_active=True).first()
    )
    if item is None or item.current_version is None:
        raise Http404("未找到该事项")
    return item


def _uploads(request: HttpRequest, item: ServiceItem) -> list[Upload]:
    """The files of the form: one input per material of the guide (``material-<n>``) plus "其他材料"."""
    names = [material["name"] for material in item.current_version.content.get("materials", [])]  # type: ignore[union-attr]
    uploads = []
    for field, files in request.FILES.lists():
        if field.startswith("material-") and field[9:].isdecimal() and int(field[9:]) < len(names):
            material = names[int(field[9:])]
        else:
            material = "其他材料"
        uploads.extend(Upload.received(material, upload) for upload in files)
    return uploads


# Keys of the application form that are not answers to the guide's form fields.
CONTROL_KEYS = ("idempotency_key", "confirm_repeat")
APPLICANT_KEYS = ("applicant_name", "applicant_id_number", "applicant_phone")


def _posted_values(request: HttpRequest) -> dict[str, str]:
    """The typed values of the form as posted (never cut: the service refuses what is too long)."""
    return {key: str(value) for key, value in request.POST.items() if key != "csrfmiddlewaretoken"}


def _form_context(
    item: ServiceItem,
    values: dict[str, str],
    errors: list[str],
    open_cases: list[dict[str, Any]],
    *,
    is_window: bool = False,
) -> dict[str, Any]:
    """The apply form. Fields and materials are marked required exactly as ``submit_application`` checks
    them (a field is required unless its guide says otherwise; a window registration uploads nothing
    compulsory, the officer takes the paper)."""
    content = item.current_version.content  # type: ignore[union-attr]
    required_materials = set() if is_window else set(services.required_uploads(item))
    return {
        "item": item,
        "is_window": is_window,
        "fields": [
            {**field, "required": field.get("required", True), "value": values.get(field["key"], "")}
            for field in content.get("form_fields", [])
        ],
        "materials": [
            (index, {**material, "must_upload": material["name"] in required_materials})
            for index, material in enumerate(content.get("materials", []))
        ],
        "idempotency_key": values.get("idempotency_key") or uuid.uuid4().hex,
        "errors": errors,
        "files_again": bool(errors),
        "values": values,
        "open_cases": open_cases,
        "confirm_repeat": values.get("confirm_repeat") == "1",
        "text_limits": TextLimit,
    }


def _open_case_rows(cases: list[Case]) -> list[dict[str, Any]]:
    return [{"number": case.number, "status_label": case.get_status_display()} for case in cases]


@login_required
def apply(request: HttpRequest, slug: str) -> HttpResponse:
    """在线申请: the form and materials of the guide version in force. An account the item's 服务对象
    excludes is told why instead; a second application while one is open asks for confirmation."""
    item = _item(slug)
    user: User = request.user  # type: ignore[assignment]  # login_required
    if user.account_type == AccountType.STAFF:
        messages.info(request, "工作人员请在工作台“窗口登记”为申请人代录。")
        return redirect("cases:register", slug=item.slug)
    refusal = services.service_object_refusal(item, user)
    if refusal:
        return render(request, "cases/apply_refused.html", {"item": item, "refusal": refusal}, status=403)
    values = _posted_values(request)
    errors: list[str] = []
    if request.method == "POST":
        try:
            case = services.submit_application(
                item=item,
                applicant=user,
                idempotency_key=values.get("idempotency_key", ""),
                form_data={key: value for key, value in values.items() if key not in CONTROL_KEYS},
                uploads=_uploads(request, item),
                confirm_repeat=values.get("confirm_repeat") == "1",
            )
        except DomainError as error:
            errors = error.details.get("errors") or [error.message]
        else:
            messages.success(request, f"申请已提交，办件编号 {case.number}。")
            return redirect("cases:detail", number=case.number)
    person = services.applicant_identity(applicant=user, id_number=user.id_number or "")
    open_cases = _open_case_rows(services.list_open_applications(item=item, person=person))
    context = _form_context(item, values, errors, open_cases)
    return render(request, "cases/apply.html", context, status=400 if errors else 200)


@staff_required
def register(request: HttpRequest, slug: str) -> HttpResponse:
    """窗口登记: a window officer registers a walk-in application. When the applicant (by 身份证号)
    already has an open case for the item, the officer confirms before a second one is made."""
    item = _item(slug)
    user: User = request.user  # type: ignore[assignment]  # staff_required
    values = _posted_values(request)
    errors: list[str] = []
    open_cases: list[dict[str, Any]] = []
    if request.method == "POST":
        form_data = {key: value for key, value in values.items() if key not in (*CONTROL_KEYS, *APPLICANT_KEYS)}
        try:
            case = services.submit_application(
                item=item,
                registered_by=user,
                idempotency_key=values.get("idempotency_key", ""),
                form_data=form_data,
                uploads=_uploads(request, item),
                applicant_name=values.get("applicant_name", ""),
                applicant_id_number=values.get("applicant_id_number", ""),
                applicant_phone=values.get("applicant_phone", ""),
                confirm_repeat=values.get("confirm_repeat") == "1",
            )
        except PermissionDeniedError as error:
            raise PermissionDenied(error.message) from None
        except services.RepeatApplication as error:
            errors = [error.message]
            open_cases = error.details["open_cases"]
        except DomainError as error:
            errors = error.details.get("errors") or [error.message]
        else:
            messages.success(request, f"已登记，办件编号 {case.number}。")
            return redirect("cases:detail", number=case.number)
    context = _form_context(item, values, errors, open_cases, is_window=True)
    return render(request, "cases/apply.html", context, status=400 if errors else 200)


@login_required
def my_cases(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]  # login_required
    page = Paginator(selectors.list_my_cases(user).filter(bundle_case__isnull=True), 20).get_page(
        request.GET.get("page")
    )
    bundle_rows = [
        (bundle_case, selectors.bundle_progress(bundle_case))
        for bundle_case in selectors.list_my_bundle_cases(user)[:20]
    ]
    return render(request, "cases/my_cases.html", {"page": page, "bundle_rows": bundle_rows})


@staff_required
def queue(request: HttpRequest) -> HttpResponse:
    """The officers' queue: open cases of their organisations, closest to the deadline first."""
    user: User = request.user  # type: ignore[assignment]  # staff_required
    status = request.GET.get("status", "")
    if status not in CaseStatus.values:
        status = ""
    cases = selectors.list_staff_cases(user, status=status).prefetch_related("pauses")
    page = Paginator(cases, 30).get_page(request.GET.get("page"))
    calendar = get_calendar()
    rows = [(case, selectors.case_clocks(case, calendar=calendar)) for case in page]
    # One explanation under the list for every 暂定 deadline on the page.
    provisional = {
        year
        for _, clocks in rows
        for clock in (clocks.promised, clocks.statutory)
        if clock is not None
        for year in clock.provisional_years
    }
    context = {"page": page, "rows": rows, "status": status, "statuses": CaseStatus.choices}
    return render(request, "cases/queue.html", {**context, "provisional_note": provisional_note(provisional)})


def _actions(user: User, case: Case) -> dict[str, bool]:
    in_bundle = case.bundle_case_id is not None  # intake steps of a 一件事 happen on the bundle's page
    intake = services.can_handle(user, case, (Role.WINDOW_OFFICER,))
    decide = services.can_handle(user, case, (Role.APPROVER,))
    status = case.status
    transfer = getattr(case, "transfer", None)
    accepted_elsewhere = transfer is not None and transfer.direction == TransferDirection.OUTGOING
    pending = _pending_extension(case)
    return {
        "accept": intake and status == CaseStatus.SUBMITTED and not accepted_elsewhere and not in_bundle,
        "decline": intake and status == CaseStatus.SUBMITTED and not in_bundle,
        "correct": intake and status == CaseStatus.ACCEPTED and not in_bundle,
        "special": decide and status == CaseStatus.ACCEPTED,
        "end_special": decide and status == CaseStatus.SPECIAL_PROCEDURE,
        "approve": decide and status == CaseStatus.ACCEPTED,
        "refuse": decide and status == CaseStatus.ACCEPTED,
        "deliver": intake and status in (CaseStatus.APPROVED, CaseStatus.REFUSED),
        "close": intake and status == CaseStatus.DELIVERED,
        # The applicant answers a correction notice; the window may take the materials at the counter
        # for them (its own form, in the staff section).
        "answer": status == CaseStatus.CORRECTION_REQUESTED and not in_bundle and case.applicant_id == user.pk,
        "answer_at_window": status == CaseStatus.CORRECTION_REQUESTED and not in_bundle and intake,
        # 延长审批期限 (行政许可法 第四十二条): a handler asks, another approver of the department approves.
        "request_extension": (intake or decide) and not services.extension_refusal(case),
        "decide_extension": pending is not None
        and pending.requested_by_id != user.pk
        and services.is_department_approver(user, case),
    }


def _pending_extension(case: Case | BundleCase) -> DeadlineExtension | None:
    return next((item for item in case.extensions.all() if item.status == ExtensionStatus.REQUESTED), None)


@login_required
def detail(request: HttpRequest, number: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]  # login_required
    try:
        case = selectors.access_case(user, number)
    except NotFound as error:
        return render(request, "core/error.html", {"message": error.message}, status=404)
    open_pause = next((pause for pause in case.pauses.all() if pause.ended_at is None), None)
    actions = _actions(user, case)
    excluded_steps = selectors.excluded_bundle_steps(case)
    can_transfer = services.can_handle(user, case, (Role.WINDOW_OFFICER,)) and case.status == CaseStatus.SUBMITTED
    return render(
        request,
        "cases/detail.html",
        {
            "case": case,
            "clocks": selectors.case_clocks(case),
            "actions": actions,
            "has_staff_actions": user.account_type == AccountType.STAFF
            and any(allowed for name, allowed in actions.items() if name not in ("answer", *EXTENSION_PANEL)),
            "text_limits": TextLimit,
            "open_pause": open_pause,
            "masked_id": identity.mask_id_number(case.applicant_id_number),
            "masked_phone": identity.mask_phone(case.applicant_phone),
            "delivery_methods": DeliveryMethod.choices,
            "is_staff_view": user.account_type == AccountType.STAFF,
            # Other apps add sections to a case page (the rating of a finished case).
            "case_panels": [
                mark_safe(app.case_panel(request, case))  # noqa: S308  # rendered by the app's own template
                for app in django_apps.get_app_configs()
                if hasattr(app, "case_panel")
            ],
            "transfer": getattr(case, "transfer", None),
            "extensions": selectors.list_extensions(case),
            "approved_extension": selectors.approved_extension(case),
            "pending_extension": _pending_extension(case),
            "can_transfer": can_transfer,
            # 制卡 in 新生儿出生一件事: the special procedure that the bundle's promise does not count
            "excluded_steps": excluded_steps,
            "directions": TransferDirection.choices,
            "result_places": ResultPlace.choices,
            "handover_methods": HandoverMethod.choices,
        },
    )


@login_required
@require_POST
def act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    """One action on a case; the page's ``version`` makes a stale page fail with a clear message."""
    user: User = request.user  # type: ignore[assignment]  # login_required
    try:
        case = selectors.access_case(user, number)
    except NotFound as error:
        return render(request, "core/error.html", {"message": error.message}, status=404)
    post = request.POST
    version = int(post["version"]) if post.get("version", "").isdecimal() else None
    if version is None and action not in ("citywide", "hand_over", "home_accepted", *EXTENSION_ACTIONS):
        messages.error(request, "页面已过期，请刷新后再操作。")
        return redirect("cases:detail", number=number)
    common: dict[str, Any] = {"case": case, "actor": user, "expected_version": version}
    handlers = {
        "accept": lambda: services.accept_case(**common),
        "decline": lambda: services.decline_case(**common, reason=post.get("reason", "")),
        "correct": lambda: services.request_correction(**common, missing=post.get("missing", "").splitlines()),
        "answer": lambda: services.submit_correction(
            **common,
            note=post.get("note", ""),
            uploads=[Upload.received("补正材料", upload) for upload in request.FILES.getlist("files")],
        ),
        "special": lambda: services.start_special_procedure(
            **common, name=post.get("name", ""), legal_basis=post.get("legal_basis", "")
        ),
        "end_special": lambda: services.end_special_procedure(**common, note=post.get("note", "")),
        "approve": lambda: services.approve_case(**common, note=post.get("note", "")),
        "refuse": lambda: services.refuse_case(
            **common, reason=post.get("reason", ""), legal_basis=post.get("legal_basis", "")
        ),
        "deliver": lambda: services.deliver_result(
            **common, method=post.get("method", ""), tracking_number=post.get("tracking_number", "")
        ),
        "close": lambda: services.close_case(**common),
        "citywide": lambda: (
            services.register_citywide_intake(
                case=case,
                actor=user,
                direction=post.get("direction", ""),
                other_body=post.get("other_body", ""),
                result_place=post.get("result_place", ""),
            ).case
        ),
        "hand_over": lambda: (
            services.hand_over(
                case=case, actor=user, method=post.get("method", ""), tracking_number=post.get("tracking_number", "")
            ).case
        ),
        "home_accepted": lambda: services.record_home_acceptance(
            case=case, actor=user, accepted_at=_local_instant(post.get("accepted_at", ""))
        ),
        "request_extension": lambda: (
            services.request_extension(case=case, actor=user, reason=post.get("reason", "")).case
        ),
        "approve_extension": lambda: services.approve_extension(
            extension=_posted_extension(case, post.get("extension", "")), actor=user, note=post.get("note", "")
        ),
        "reject_extension": lambda: (
            services.reject_extension(
                extension=_posted_extension(case, post.get("extension", "")), actor=user, note=post.get("note", "")
            ).case
        ),
    }
    if action not in handlers:
        raise Http404("未知操作")
    try:
        updated = handlers[action]()
    except PermissionDeniedError as error:
        raise PermissionDenied(error.message) from None
    except DomainError as error:
        messages.error(request, error.message)
    else:
        done = EXTENSION_MESSAGES.get(action) or f"办件 {updated.number} 已更新：{updated.get_status_display()}。"
        messages.success(request, done)
    return redirect("cases:detail", number=number)


EXTENSION_MESSAGES = {
    "request_extension": "延期申请已提交，待负责人批准。",
    "approve_extension": "已批准延长审批期限，并已告知申请人延长理由。",
    "reject_extension": "已不批准该延期申请，原期限不变。",
}
EXTENSION_ACTIONS = tuple(EXTENSION_MESSAGES)
# Actions shown in the page's own 延长审批期限 section rather than under 办理.
EXTENSION_PANEL = ("request_extension", "decide_extension")


def _posted_extension(target: Case | BundleCase, value: str) -> DeadlineExtension:
    """The extension request the form names, among the case's (or application's) own."""
    extension = next((item for item in target.extensions.all() if value.isdecimal() and item.pk == int(value)), None)
    if extension is None:
        raise DomainError("未找到该延期申请，请刷新页面后再操作。", code="invalid_extension")
    return extension


def _local_instant(text: str) -> datetime:
    """A ``datetime-local`` form value read as Beijing time; raises ``DomainError`` in Chinese."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise DomainError("请填写办理地受理时间。", code="invalid_transfer") from None
    return value.replace(tzinfo=LOCAL_TIMEZONE) if value.tzinfo is None else value


@login_required
def download(request: HttpRequest, number: str, attachment_id: int) -> FileResponse:
    """A material file, for the case's applicant and staff only; staff access is audited (personal data)."""
    user: User = request.user  # type: ignore[assignment]  # login_required
    try:
        case = selectors.access_case(user, number)
    except NotFound:
        raise Http404("未找到该文件") from None
    attachment = case.attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404("未找到该文件")
    if case.applicant_id != user.pk:
        audit.record_event(
            action="case.attachment_viewed",
            actor=user,
            target=case,
            changes={"attachment": attachment.pk, "name": attachment.original_name},
        )
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=services.stored_file_name(attachment.original_name, attachment.content_type),
        content_type=attachment.content_type,
    )


# ---- 一件事 ---------------------------------------------------------------------------------------


@login_required
def bundle_apply(request: HttpRequest, slug: str) -> HttpResponse:
    """一件事 application: the merged form and one set of materials; fans out into sub-cases."""
    user: User = request.user  # type: ignore[assignment]  # login_required
    try:
        bundle = catalog_selectors.get_bundle(slug)
    except NotFound as error:
        return render(request, "core/error.html", {"message": error.message}, status=404)
    if user.account_type == AccountType.STAFF:
        raise PermissionDenied("一件事在线申请由申请人本人提交。")
    if not bundle.bundleitem_set.all():  # nothing to fan out into: the page says the items are being compiled
        messages.info(request, f"“{bundle.name}”所含事项整理中，暂不受理网上申请。")
        return redirect("catalog:bundle_detail", slug=bundle.slug)
    merged = catalog_selectors.merge_bundle(bundle)
    values = _posted_values(request)
    errors: list[str] = []
    if request.method == "POST":
        uploads = []
        for field, files in request.FILES.lists():
            index = field[9:]
            name = (
                merged.materials[int(index)].name
                if index.isdecimal() and int(index) < len(merged.materials)
                else "其他材料"
            )
            uploads.extend(Upload.received(name, upload) for upload in files)
        try:
            bundle_case = services.submit_bundle_application(
                bundle=bundle,
                applicant=user,
                idempotency_key=values.get("idempotency_key", ""),
                form_data=values,
                uploads=uploads,
            )
        except DomainError as error:
            errors = error.details.get("errors") or [error.message]
        else:
            messages.success(request, f"申请已提交，一件事编号 {bundle_case.number}。")
            return redirect("cases:bundle_detail", number=bundle_case.number)
    return render(
        request,
        "cases/bundle_apply.html",
        {
            "bundle": bundle,
            "rows": [{"field": field, "value": values.get(field.key, "")} for field in merged.fields],
            "materials": list(enumerate(merged.materials)),
            "idempotency_key": values.get("idempotency_key") or uuid.uuid4().hex,
            "errors": errors,
            "files_again": bool(errors),
            "text_limits": TextLimit,
        },
        status=400 if errors else 200,
    )


@login_required
def bundle_detail(request: HttpRequest, number: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]  # login_required
    try:
        bundle_case = selectors.access_bundle_case(user, number)
    except NotFound as error:
        return render(request, "core/error.html", {"message": error.message}, status=404)
    progress = selectors.bundle_progress(bundle_case)
    is_staff = user.account_type == AccountType.STAFF
    intake = is_staff and any(services.can_handle(user, case, (Role.WINDOW_OFFICER,)) for case in progress.sub_cases)
    handles = is_staff and any(services.can_handle(user, case) for case in progress.sub_cases)
    pending = _pending_extension(bundle_case)
    return render(
        request,
        "cases/bundle_detail.html",
        {
            "bundle_case": bundle_case,
            "progress": progress,
            "is_staff_view": is_staff,
            "can_intake": intake,
            "text_limits": TextLimit,
            "extensions": selectors.list_extensions(bundle_case),
            "approved_extension": selectors.approved_extension(bundle_case),
            "pending_extension": pending,
            "can_request_extension": handles and not services.joint_extension_refusal(bundle_case, progress.sub_cases),
            "can_decide_extension": pending is not None
            and pending.requested_by_id != user.pk
            and services.is_bundle_lead_approver(user, bundle_case),
            "can_answer": progress.status == "correction_requested" and bundle_case.applicant_id == user.pk,
            "delivery_methods": DeliveryMethod.choices,
        },
    )


@login_required
@require_POST
def bundle_act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]  # login_required
    try:
        bundle_case = selectors.access_bundle_case(user, number)
    except NotFound as error:
        return render(request, "core/error.html", {"message": error.message}, status=404)
    post = request.POST
    handlers = {
        "accept": lambda: services.accept_bundle_case(bundle_case=bundle_case, actor=user),
        "correct": lambda: services.request_bundle_correction(
            bundle_case=bundle_case, actor=user, missing=post.get("missing", "").splitlines()
        ),
        "answer": lambda: services.answer_bundle_correction(
            bundle_case=bundle_case,
            actor=user,
            note=post.get("note", ""),
            uploads=[Upload.received("补正材料", upload) for upload in request.FILES.getlist("files")],
        ),
        "deliver": lambda: services.deliver_bundle_case(
            bundle_case=bundle_case,
            actor=user,
            method=post.get("method", ""),
            tracking_number=post.get("tracking_number", ""),
        ),
        "request_extension": lambda: services.request_joint_extension(
            bundle_case=bundle_case, actor=user, reason=post.get("reason", "")
        ),
        "approve_extension": lambda: services.approve_joint_extension(
            extension=_posted_extension(bundle_case, post.get("extension", "")), actor=user, note=post.get("note", "")
        ),
        "reject_extension": lambda: services.reject_extension(
            extension=_posted_extension(bundle_case, post.get("extension", "")), actor=user, note=post.get("note", "")
        ),
    }
    if action not in handlers:
        raise Http404("未知操作")
    try:
        handlers[action]()
    except PermissionDeniedError as error:
        raise PermissionDenied(error.message) from None
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, EXTENSION_MESSAGES.get(action, "已更新。"))
    return redirect("cases:bundle_detail", number=number)
