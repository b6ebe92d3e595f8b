"""Pages of the core domain: portal, organisation browser, accounts, workbench, audit log, calendar."""

from __future__ import annotations

import csv
import json
from datetime import datetime, time
from typing import Any

from django import forms
from django.apps import apps as django_apps
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.forms import OTPTokenForm
from django_otp.plugins.otp_totp.models import TOTPDevice

from yuexiu.core import audit, calendar, selectors, services
from yuexiu.core.context_processors import ELDER_MODE_COOKIE, is_elder_mode
from yuexiu.core.errors import DomainError, PermissionDeniedError
from yuexiu.core.models import AuditOutcome, HolidayYear, OrganisationKind, Role, User
from yuexiu.core.workdays import CalendarError


def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "core/home.html",
        {
            "district": selectors.list_organisations(kind=OrganisationKind.DISTRICT).first(),
            "subdistricts": selectors.list_organisations(kind=OrganisationKind.SUBDISTRICT),
            "departments": selectors.list_organisations(kind=OrganisationKind.DEPARTMENT),
        },
    )


def organisation_list(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    if kind not in OrganisationKind.values:
        kind = ""
    query = request.GET.get("q", "").strip()[:50]
    organisations = selectors.list_organisations(kind=kind, query=query)
    context = {"organisations": organisations, "kind": kind, "query": query, "kinds": OrganisationKind.choices}
    template = "core/_organisation_rows.html" if request.headers.get("HX-Request") else "core/organisation_list.html"
    return render(request, template, context)


def organisation_detail(request: HttpRequest, code: str) -> HttpResponse:
    try:
        organisation = selectors.get_organisation(code)
    except DomainError as error:
        return render(request, "core/error.html", {"message": error.message}, status=404)
    children = organisation.children.filter(is_active=True).order_by("sort_order", "code")
    return render(request, "core/organisation_detail.html", {"organisation": organisation, "children": children})


@require_POST
def toggle_elder_mode(request: HttpRequest) -> HttpResponse:
    enabled = not is_elder_mode(request)
    if request.user.is_authenticated:
        services.set_elder_mode(user=request.user, enabled=enabled)  # type: ignore[arg-type]  # signed in
    next_url = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    response = redirect(next_url)
    response.set_cookie(ELDER_MODE_COOKIE, "1" if enabled else "0", max_age=365 * 24 * 3600, samesite="Lax")
    return response


class LoginForm(auth_views.AuthenticationForm):
    error_messages = {
        "invalid_login": "用户名或密码错误。连续 5 次错误将锁定账号 30 分钟。",
        "inactive": "该账号已停用，请联系管理员。",
    }


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        """Where a login without ``next`` lands: staff on their workbench, citizens and enterprises
        on the portal (``LOGIN_REDIRECT_URL``)."""
        if getattr(self.request.user, "is_staff_account", False):
            return resolve_url("workbench")
        return super().get_default_redirect_url()


class CitizenRegistrationForm(forms.Form):
    username = forms.CharField(label="用户名", max_length=150)
    full_name = forms.CharField(label="姓名", max_length=50)
    id_number = forms.CharField(label="身份证号", max_length=18)
    phone = forms.CharField(label="手机号（选填）", max_length=11, required=False)
    password = forms.CharField(
        label="密码",
        widget=forms.PasswordInput,
        help_text="至少 10 位，包含大写字母、小写字母、数字、符号中的至少 3 类。",
    )


class EnterpriseRegistrationForm(forms.Form):
    username = forms.CharField(label="用户名", max_length=150)
    full_name = forms.CharField(label="经办人姓名", max_length=50)
    enterprise_name = forms.CharField(label="企业名称", max_length=200)
    enterprise_uscc = forms.CharField(label="统一社会信用代码", max_length=18)
    phone = forms.CharField(label="手机号（选填）", max_length=11, required=False)
    password = forms.CharField(
        label="密码",
        widget=forms.PasswordInput,
        help_text="至少 10 位，包含大写字母、小写字母、数字、符号中的至少 3 类。",
    )


def register(request: HttpRequest) -> HttpResponse:
    account_type = request.GET.get("type") or request.POST.get("account_type") or "citizen"
    form_class = EnterpriseRegistrationForm if account_type == "enterprise" else CitizenRegistrationForm
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            if account_type == "enterprise":
                services.register_enterprise_user(**form.cleaned_data)
            else:
                services.register_citizen(**form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "注册成功，请登录。")
            return redirect("login")
    return render(request, "registration/register.html", {"form": form, "account_type": account_type})


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]  # login_required
    revealed = {}
    if request.method == "POST" and request.POST.get("reveal") in {"id_number", "phone"}:
        field = request.POST["reveal"]
        revealed[field] = services.reveal_personal_data(viewer=user, subject=user, field=field)
    assignments = user.role_assignments.select_related("organisation")
    return render(
        request,
        "core/profile.html",
        {"assignments": assignments, "revealed": revealed, "has_two_factor": user_has_device(user)},
    )


class TwoFactorSetupForm(forms.Form):
    token = forms.CharField(label="验证码", max_length=6, min_length=6)


@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    """Verify a TOTP code, or enrol a TOTP device (authenticator app) when the account has none."""
    user: User = request.user  # type: ignore[assignment]  # login_required
    if user_has_device(user):
        form = OTPTokenForm(user, request, request.POST or None)
        if request.method == "POST" and form.is_valid():
            otp_login(request, form.get_user().otp_device)
            audit.record_event(action="auth.two_factor_verified", actor=user, target=user)
            return redirect("workbench" if user.is_staff_account else "home")
        if request.method == "POST":
            audit.record_event(action="auth.two_factor_failed", actor=user, target=user, outcome="failed")
        return render(request, "core/two_factor.html", {"form": form, "mode": "verify"})
    device, _ = TOTPDevice.objects.get_or_create(user=user, confirmed=False, defaults={"name": "身份验证器"})
    form = TwoFactorSetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            audit.record_event(action="auth.two_factor_enrolled", actor=user, target=user)
            messages.success(request, "两步验证已启用。")
            return redirect("profile")
        audit.record_event(action="auth.two_factor_failed", actor=user, target=user, outcome="failed")
        form.add_error("token", "验证码不正确或已过期，请在身份验证器中查看最新的 6 位数字。")
    return render(
        request,
        "core/two_factor.html",
        {"form": form, "mode": "setup", "qr_svg": qr_svg(device.config_url), "secret": _base32_key(device)},
    )


def qr_svg(data: str) -> str:
    """An SVG QR code of ``data`` (TOTP enrolment, the rating link on a result notice)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return image.to_string(encoding="unicode")


def _base32_key(device: TOTPDevice) -> str:
    from base64 import b32encode

    return b32encode(device.bin_key).decode()


def staff_required(view: Any) -> Any:
    @login_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_staff_account:  # type: ignore[union-attr]  # login_required
            raise PermissionDenied("该页面仅限工作人员使用。")
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@staff_required
def workbench(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]  # staff_required
    staff = selectors.list_staff(viewer=user)
    page = Paginator(staff, 30).get_page(request.GET.get("page"))
    roles = {assignment.role for assignment in user.role_assignments.all()}
    # Domain apps add their own panels (the guide-check counts, later the case queues).
    panels = [
        mark_safe(app.workbench_panel(request))  # noqa: S308  # rendered by the app's own template
        for app in django_apps.get_app_configs()
        if hasattr(app, "workbench_panel")
    ]
    # From 1 November, system administrators are reminded that next year's holiday notice is missing.
    reminder = calendar.notice_reminder(timezone.localdate()) if Role.SYSTEM_ADMIN in roles else ""
    return render(
        request,
        "core/workbench.html",
        {"page": page, "roles": roles, "Role": Role, "panels": panels, "calendar_reminder": reminder},
    )


class AuditSearchForm(forms.Form):
    actor = forms.CharField(label="账号", required=False, max_length=150)
    action = forms.CharField(label="事件（前缀）", required=False, max_length=64)
    outcome = forms.ChoiceField(label="结果", required=False, choices=[("", "全部"), *AuditOutcome.choices])
    since = forms.DateField(label="起始日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="截止日期（含）", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    ip_address = forms.GenericIPAddressField(label="IP 地址", required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name in ("since", "until"):
            value = data.get(name)
            if value is not None and not 1900 <= value.year <= 2100:
                self.add_error(name, "日期应在 1900 年至 2100 年之间。")
        return data


def _audit_events_for(request: HttpRequest) -> tuple[AuditSearchForm, Any]:
    try:
        events = selectors.access_audit_log(request.user)  # type: ignore[arg-type]  # staff_required
    except PermissionDeniedError as error:
        raise PermissionDenied(error.message) from error
    form = AuditSearchForm(request.GET or None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        since = timezone.make_aware(datetime.combine(data["since"], time.min)) if data["since"] else None
        until = timezone.make_aware(datetime.combine(data["until"], time.max)) if data["until"] else None
        events = selectors.search_audit_events(
            events,
            actor=data["actor"],
            action=data["action"],
            outcome=data["outcome"],
            since=since,
            until=until,
            ip_address=data["ip_address"] or "",
        )
    elif form.is_bound:
        events = events.none()
    else:
        events = selectors.search_audit_events(events)
    return form, events


@staff_required
def audit_log(request: HttpRequest) -> HttpResponse:
    form, events = _audit_events_for(request)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "core/audit_log.html", {"form": form, "page": page, "query": query.urlencode()})


class _Echo:
    def write(self, value: str) -> str:
        return value


@staff_required
def audit_log_export(request: HttpRequest) -> StreamingHttpResponse:
    """CSV export of the current search (UTF-8 with BOM so that Excel reads Chinese). The export is audited."""
    form, events = _audit_events_for(request)
    audit.record_event(
        action="audit.exported", actor=request.user, changes={"filters": request.GET.dict(), "rows": events.count()}
    )
    writer = csv.writer(_Echo())
    header = [
        "时间（北京时间）",
        "账号",
        "角色",
        "单位",
        "事件",
        "结果",
        "对象类型",
        "对象编号",
        "对象",
        "变更",
        "说明",
        "IP",
    ]

    def rows() -> Any:
        yield "\ufeff" + writer.writerow(header)
        for event in events.iterator(chunk_size=1000):
            yield writer.writerow(
                [
                    timezone.localtime(event.occurred_at).strftime("%Y-%m-%d %H:%M:%S"),
                    event.actor_username,
                    event.actor_roles,
                    event.organisation.name if event.organisation else "",
                    event.action,
                    event.get_outcome_display(),
                    event.object_type,
                    event.object_id,
                    event.object_repr,
                    json.dumps(event.changes, ensure_ascii=False),
                    event.message,
                    event.ip_address or "",
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{timezone.localdate():%Y%m%d}.csv"'
    return response


class HolidayNoticeForm(forms.Form):
    year = forms.IntegerField(label="年份", min_value=2000, max_value=2100)
    notice_number = forms.CharField(label="通知文号", max_length=100)
    notice_url = forms.URLField(label="通知链接（选填）", required=False, assume_scheme="https")
    text = forms.CharField(label="通知正文", widget=forms.Textarea(attrs={"rows": 10}))


class WorkdayCalculatorForm(forms.Form):
    start = forms.DateField(label="起算日期", widget=forms.DateInput(attrs={"type": "date"}))
    days = forms.IntegerField(label="工作日数", min_value=0, max_value=3650)


def _require_system_admin(user: User) -> None:
    if not services.has_role(user, Role.SYSTEM_ADMIN):
        raise PermissionDenied("只有系统管理员可以维护节假日安排。")


@staff_required
def calendar_admin(request: HttpRequest) -> HttpResponse:
    """The holiday tables: years loaded or provisional, the notice import, and a deadline calculator."""
    user: User = request.user  # type: ignore[assignment]  # staff_required
    is_system_admin = services.has_role(user, Role.SYSTEM_ADMIN)
    notice_form = HolidayNoticeForm(prefix="notice")
    calculator = WorkdayCalculatorForm(request.GET or None)
    working_calendar = calendar.get_calendar()
    result = None
    if calculator.is_bound and calculator.is_valid():
        try:
            start, days = calculator.cleaned_data["start"], calculator.cleaned_data["days"]
            final_day = working_calendar.add_working_days(start, days)
            note = calendar.provisional_note(working_calendar.provisional_years(start, final_day))
            result = {"date": final_day, "start": start, "days": days, "provisional_note": note}
        except CalendarError as error:
            calculator.add_error(None, error.message)
    if request.method == "POST":
        _require_system_admin(user)
        notice_form = HolidayNoticeForm(request.POST, prefix="notice")
        if notice_form.is_valid():
            try:
                record = calendar.import_holiday_notice(actor=user, **notice_form.cleaned_data)
            except DomainError as error:
                notice_form.add_error(None, error.message)
            else:
                messages.success(
                    request,
                    f"已导入{record.year}年节假日安排（{record.notice_number}），"
                    f"涉及{record.year}年的未结期限正在后台重新计算。",
                )
                return redirect("calendar_admin")
    today = timezone.localdate()
    records = {record.year: record for record in HolidayYear.objects.filter(year__gte=today.year - 2)}
    years = [
        {
            "year": year,
            "record": records.get(year),
            "is_provisional": working_calendar.is_provisional(year),
            "holidays": working_calendar.arrangement(year).names,
        }
        for year in sorted({*records, today.year, today.year + 1}, reverse=True)
    ]
    return render(
        request,
        "core/calendar_admin.html",
        {
            "years": years,
            "reminder": calendar.notice_reminder(today),
            "notice_form": notice_form,
            "calculator": calculator,
            "result": result,
            "is_system_admin": is_system_admin,
        },
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403 page; every refusal is written to the audit log."""
    audit.record_event(
        action="permission.denied",
        actor=request.user if request.user.is_authenticated else None,
        outcome="denied",
        message=f"{request.method} {request.path}"[:500],
    )
    message = str(exception) if exception and str(exception) else "您没有权限访问该页面。"
    return render(request, "core/error.html", {"message": message, "title": "无权访问"}, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 page; under /api/ the API's error shape, so clients always get JSON."""
    if request.path.startswith("/api/"):
        body = {"code": "not_found", "message": "接口不存在，请检查地址（接口文档：/api/v1/docs）。", "details": {}}
        return JsonResponse(body, status=404, json_dumps_params={"ensure_ascii": False})
    return render(
        request, "core/error.html", {"message": "页面不存在，请检查地址。", "title": "页面不存在"}, status=404
    )


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "core/error.html", {"message": "系统繁忙，请稍后再试。", "title": "系统错误"}, status=500)
