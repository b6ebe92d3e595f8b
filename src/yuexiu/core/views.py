"""Pages of the core domain: portal, organisation browser, accounts, workbench, audit log, calendar."""

from __future__ import annotations

import json
import sys
from datetime import datetime, time
from typing import Any

from django import forms
from django.apps import apps as django_apps
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
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
from django_otp.plugins.otp_totp.models import TOTPDevice

from yuexiu.core import audit, calendar, identity, passwords, selectors, services, tabular
from yuexiu.core.context_processors import ELDER_MODE_COOKIE, is_elder_mode
from yuexiu.core.errors import (
    CSRF_FAILURE,
    DomainError,
    PermissionDeniedError,
    has_chinese,
    http_status_message,
    unreadable_request_message,
)
from yuexiu.core.models import (
    ADMINISTRATOR_ROLES,
    AuditOutcome,
    HolidayYear,
    Organisation,
    OrganisationKind,
    Role,
    RoleAssignment,
    User,
)
from yuexiu.core.public_cache import cache_public_page
from yuexiu.core.workdays import CalendarError


def bench_bare(request: HttpRequest) -> HttpResponse:
    """A page without database or template (routed only with ``BENCH_BARE_VIEW=1``): the baseline
    throughput of the middleware stack, against which bench/load_bench.py measures the pages."""
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


@cache_public_page
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


@cache_public_page
def organisation_list(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    if kind not in OrganisationKind.values:
        kind = ""
    query = request.GET.get("q", "").strip()[:50]
    organisations = selectors.list_organisations(kind=kind, query=query)
    context = {"organisations": organisations, "kind": kind, "query": query, "kinds": OrganisationKind.choices}
    template = "core/_organisation_rows.html" if request.headers.get("HX-Request") else "core/organisation_list.html"
    return render(request, template, context)


@cache_public_page
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
        "invalid_login": "用户名或密码错误。连续 5 次错误后，30 分钟内不能从本网络登录该账号（可用短信验证码解锁）。",
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


PASSWORD_HELP = "至少 10 位，包含大写字母、小写字母、数字、符号中的至少 3 类。"


def _entry(label: str, max_length: int, **attrs: str) -> forms.CharField:
    """A registration field that only carries the text: every check (required, length, format,
    uniqueness) is the service's, so that all problems come back at once in our own wording."""
    return forms.CharField(
        label=label, required=False, widget=forms.TextInput(attrs={"maxlength": max_length, **attrs})
    )


class CitizenRegistrationForm(forms.Form):
    username = _entry("用户名", 150, autocomplete="username")
    full_name = _entry("姓名", 50, autocomplete="name")
    id_number = _entry("身份证号", 18)
    phone = _entry("手机号（选填，用于找回密码）", 11, autocomplete="tel", inputmode="numeric")
    password = forms.CharField(
        label="密码",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=PASSWORD_HELP,
    )


class EnterpriseRegistrationForm(forms.Form):
    username = _entry("用户名", 150, autocomplete="username")
    full_name = _entry("经办人姓名", 50, autocomplete="name")
    enterprise_name = _entry("企业名称", 200, autocomplete="organization")
    enterprise_uscc = _entry("统一社会信用代码", 18)
    phone = _entry("手机号（选填，用于找回密码）", 11, autocomplete="tel", inputmode="numeric")
    password = forms.CharField(
        label="密码",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=PASSWORD_HELP,
    )


def show_problems(form: forms.Form, error: DomainError) -> None:
    """Put a refusal's per-field problems (``details["fields"]``) under their fields, the rest on top."""
    problems = error.details.get("fields") or {}
    for name, texts in problems.items():
        for text in texts:
            form.add_error(name if name in form.fields else None, text)
    if not problems:
        form.add_error(None, error.message)


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
            show_problems(form, error)
        else:
            # The same answer whether or not the 身份证号 already had an account (then its owner is told by SMS).
            messages.success(request, services.REGISTRATION_ACCEPTED_MESSAGE)
            return redirect("login")
    return render(request, "registration/register.html", {"form": form, "account_type": account_type})


class AccountNameForm(forms.Form):
    """The account a password reset is for, as the person types it (look-alike names are one name)."""

    username = forms.CharField(
        label="用户名",
        max_length=150,
        error_messages={"required": "请填写用户名。", "max_length": "用户名不能超过 150 个字符。"},
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )


class PasswordResetRequestForm(AccountNameForm):
    phone = forms.CharField(
        label="注册时登记的手机号",
        max_length=11,
        error_messages={"required": "请填写手机号。", "max_length": "手机号为 11 位数字。"},
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "numeric"}),
    )


class PasswordResetForm(AccountNameForm):
    code = forms.CharField(
        label="短信验证码",
        max_length=12,
        error_messages={"required": "请填写短信中的 6 位验证码。", "max_length": "验证码为 6 位数字。"},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": 6}),
    )
    new_password = forms.CharField(
        label="新密码",
        strip=False,
        error_messages={"required": "请设置新密码。"},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=PASSWORD_HELP,
    )
    new_password_again = forms.CharField(
        label="再次输入新密码",
        strip=False,
        error_messages={"required": "请再次输入新密码。"},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("new_password") and data.get("new_password_again") not in (None, data["new_password"]):
            self.add_error("new_password_again", "两次输入的新密码不一致。")
        return data


PASSWORD_RESET_SESSION_KEY = "password_reset_username"


def password_reset(request: HttpRequest) -> HttpResponse:
    """找回密码, step 1: the username and the registered phone; a code goes out by SMS. The answer is
    the same whether or not the account exists."""
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            passwords.request_password_reset(**form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            request.session[PASSWORD_RESET_SESSION_KEY] = form.cleaned_data["username"]
            messages.success(request, passwords.RESET_SENT_MESSAGE)
            return redirect("password_reset_confirm")
    return render(request, "core/password_reset.html", {"form": form})


def password_reset_confirm(request: HttpRequest) -> HttpResponse:
    """找回密码, step 2: the code from the SMS and the new password."""
    initial = {"username": request.session.get(PASSWORD_RESET_SESSION_KEY, "")}
    form = PasswordResetForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            passwords.reset_password(username=data["username"], code=data["code"], new_password=data["new_password"])
        except DomainError as error:
            show_problems(form, error)
        else:
            request.session.pop(PASSWORD_RESET_SESSION_KEY, None)
            messages.success(request, "密码已重置，请用新密码登录。")
            return redirect("login")
    return render(request, "core/password_reset_confirm.html", {"form": form})


class UnlockForm(AccountNameForm):
    code = PasswordResetForm.base_fields["code"]


def account_unlock(request: HttpRequest) -> HttpResponse:
    """解除登录锁定, step 1: the username and the registered phone; a code goes out by SMS (the
    same answer whether or not the account exists)."""
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            passwords.request_unlock_code(**form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            request.session[PASSWORD_RESET_SESSION_KEY] = form.cleaned_data["username"]
            messages.success(request, passwords.RESET_SENT_MESSAGE)
            return redirect("account_unlock_confirm")
    return render(request, "core/account_unlock.html", {"form": form})


def account_unlock_confirm(request: HttpRequest) -> HttpResponse:
    """解除登录锁定, step 2: the code from the SMS; the password stays as it is."""
    form = UnlockForm(request.POST or None, initial={"username": request.session.get(PASSWORD_RESET_SESSION_KEY, "")})
    if request.method == "POST" and form.is_valid():
        try:
            passwords.unlock_account(username=form.cleaned_data["username"], code=form.cleaned_data["code"])
        except DomainError as error:
            show_problems(form, error)
        else:
            request.session.pop(PASSWORD_RESET_SESSION_KEY, None)
            messages.success(request, "账号已解锁，请登录。")
            return redirect("login")
    return render(request, "core/account_unlock_confirm.html", {"form": form})


class PasswordChangeForm(forms.Form):
    current_password = forms.CharField(
        label="当前密码",
        strip=False,
        error_messages={"required": "请输入当前密码。"},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = PasswordResetForm.base_fields["new_password"]
    new_password_again = PasswordResetForm.base_fields["new_password_again"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("new_password") and data.get("new_password_again") not in (None, data["new_password"]):
            self.add_error("new_password_again", "两次输入的新密码不一致。")
        return data


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    """修改密码 with the current one; this session stays signed in, every other one ends."""
    user: User = request.user  # type: ignore[assignment]  # login_required
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            passwords.change_password(
                user=user, current_password=data["current_password"], new_password=data["new_password"]
            )
        except DomainError as error:
            show_problems(form, error)
        else:
            update_session_auth_hash(request, user)
            messages.success(request, "密码已修改。其他设备上的登录已退出。")
            return redirect("profile")
    return render(request, "core/password_change.html", {"form": form})


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
    token = forms.CharField(
        label="验证码",
        max_length=6,
        min_length=6,
        error_messages={
            "required": "请输入身份验证器中显示的 6 位数字。",
            "min_length": "验证码为 6 位数字。",
            "max_length": "验证码为 6 位数字。",
        },
    )


class TwoFactorVerifyForm(forms.Form):
    token = forms.CharField(
        label="动态码",
        max_length=12,
        error_messages={"required": "请输入身份验证器中显示的 6 位动态码。", "max_length": "动态码为 6 位数字。"},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 6}),
    )


@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    """Verify a TOTP code, or enrol a TOTP device (authenticator app) when the account has none."""
    user: User = request.user  # type: ignore[assignment]  # login_required
    if user_has_device(user):
        form = TwoFactorVerifyForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                device = services.verify_two_factor(user=user, token=form.cleaned_data["token"])
            except DomainError as error:
                form.add_error("token", error.message)
            else:
                otp_login(request, device)
                next_url = request.GET.get("next", "")
                if next_url and url_has_allowed_host_and_scheme(
                    next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
                ):
                    return redirect(next_url)
                return redirect("workbench" if user.is_staff_account else "home")
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


ADMINISTRATORS_REFUSED = (
    "按三员分立要求，系统管理员、安全管理员、审计管理员不办理业务，不能查看办件、评价、督办、政策兑现和个人信息。"
)


def _staff_page(view: Any, *, administrators: bool) -> Any:
    @login_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_staff_account:  # type: ignore[union-attr]  # login_required
            raise PermissionDenied("该页面仅限工作人员使用。")
        if not administrators and selectors.is_administrator(request.user):  # type: ignore[arg-type]
            raise PermissionDenied(ADMINISTRATORS_REFUSED)
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def staff_required(view: Any) -> Any:
    """A page of the district's work (cases, ratings, supervision, policies, guides): for staff, and
    not for the three administrators (三员分立: they see no business data, ``selectors.is_administrator``)."""
    return _staff_page(view, administrators=False)


def any_staff_required(view: Any) -> Any:
    """A page of the platform itself (the workbench home, the calendar, the audit log, 管理员授权):
    for every staff account, the administrators included; the page checks the role it needs."""
    return _staff_page(view, administrators=True)


@any_staff_required
def workbench(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]  # staff_required
    staff = selectors.list_staff(viewer=user)
    page = Paginator(staff, 30).get_page(request.GET.get("page"))
    roles = services.exercised_roles(user)
    # Domain apps add their own panels (the guide-check counts, the case queues); the administrators
    # do no business work and get none (三员分立).
    panels = [
        mark_safe(app.workbench_panel(request))  # noqa: S308  # rendered by the app's own template
        for app in django_apps.get_app_configs()
        if hasattr(app, "workbench_panel") and not selectors.is_administrator(user)
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
    action = forms.CharField(
        label="事件",
        required=False,
        max_length=64,
        help_text="可输入事件名称中的文字，如“登录”“导入节假日安排”，或事件代码的开头，如 auth.",
    )
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


@any_staff_required
def audit_log(request: HttpRequest) -> HttpResponse:
    form, events = _audit_events_for(request)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "core/audit_log.html", {"form": form, "page": page, "query": query.urlencode()})


@any_staff_required
def audit_log_export(request: HttpRequest) -> StreamingHttpResponse:
    """CSV export of the current search (UTF-8 with BOM so that Excel reads Chinese), written by
    ``tabular.csv_lines`` (formula-guarded: a name typed at a failed login is a cell, never a formula).
    The export is audited."""
    form, events = _audit_events_for(request)
    audit.record_event(
        action="audit.exported", actor=request.user, changes={"filters": request.GET.dict(), "rows": events.count()}
    )
    header = [
        "时间（北京时间）",
        "账号",
        "角色",
        "单位",
        "事件",
        "事件代码",
        "结果",
        "对象类型",
        "对象编号",
        "对象",
        "变更",
        "说明",
        "IP",
    ]
    rows = (
        [
            timezone.localtime(event.occurred_at).strftime("%Y-%m-%d %H:%M:%S"),
            event.actor_username,
            event.role_labels,
            event.organisation.name if event.organisation else "",
            event.action_label,
            event.action,
            event.get_outcome_display(),
            event.object_type,
            event.object_id,
            event.object_repr,
            json.dumps(event.changes, ensure_ascii=False),
            event.message,
            event.ip_address or "",
        ]
        for event in events.iterator(chunk_size=1000)
    )
    response = StreamingHttpResponse(tabular.csv_lines(header, rows, bom=True), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{timezone.localdate():%Y%m%d}.csv"'
    return response


YEAR_MESSAGES = {
    "required": "请填写年份，例如 2027。",
    "invalid": "年份应为四位数字，例如 2027。",
    "min_value": "年份应在 2000 至 2099 之间。",
    "max_value": "年份应在 2000 至 2099 之间。",
}


class HolidayNoticeForm(forms.Form):
    year = forms.IntegerField(label="年份", min_value=2000, max_value=2099, error_messages=YEAR_MESSAGES)
    notice_number = forms.CharField(
        label="通知文号", max_length=100, error_messages={"required": "请填写通知文号，例如“国办发明电〔2024〕12号”。"}
    )
    notice_url = forms.URLField(
        label="通知链接（选填）",
        required=False,
        assume_scheme="https",
        error_messages={"invalid": "通知链接格式有误，请填写以 https:// 开头的网址，或留空。"},
    )
    text = forms.CharField(
        label="通知正文",
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 10}),
        error_messages={"required": "请粘贴通知正文。", "max_length": "通知正文不能超过 20000 个字符。"},
    )


class WorkdayCalculatorForm(forms.Form):
    start = forms.DateField(
        label="起算日期",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": "请选择起算日期。", "invalid": "起算日期有误，应为存在的日期，例如 2025-01-20。"},
    )
    days = forms.IntegerField(
        label="工作日数",
        min_value=0,
        max_value=3650,
        error_messages={
            "required": "请填写工作日数。",
            "invalid": "工作日数应为整数。",
            "min_value": "工作日数不能为负数。",
            "max_value": "工作日数不能超过 3650 天。",
        },
    )


def _require_system_admin(user: User) -> None:
    if not services.has_role(user, Role.SYSTEM_ADMIN):
        raise PermissionDenied("只有系统管理员可以维护节假日安排。")


@any_staff_required
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
            final_day = working_calendar.last_day(start, days)
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


ERROR_TITLES = {
    400: "请求有误",
    403: "无权访问",
    404: "页面不存在",
    405: "请求方式不支持",
    413: "提交内容过大",
    500: "系统错误",
}


def error_response(
    request: HttpRequest, status: int, *, message: str = "", code: str = "", title: str = "", details: Any = None
) -> HttpResponse:
    """A refusal in Chinese: under /api/ the API's ``{"code", "message", "details"}`` shape, elsewhere
    the error page. ``message`` and ``code`` default to the status's (``errors.HTTP_STATUS_MESSAGES``)."""
    default_code, default_message = http_status_message(status)
    message, code = message or default_message, code or default_code
    if request.path.startswith("/api/"):
        body = {"code": code, "message": message, "details": details or {}}
        return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    title = title or ERROR_TITLES.get(status, "出错了")
    return render(request, "core/error.html", {"message": message, "title": title}, status=status)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403 page; every refusal is written to the audit log."""
    audit.record_event(
        action="permission.denied",
        actor=request.user if request.user.is_authenticated else None,
        outcome="denied",
        message=f"{request.method} {request.path}"[:500],
    )
    text = str(exception) if exception else ""
    return error_response(request, 403, message=text if has_chinese(text) else "您没有权限访问该页面。")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 page; under /api/ the API's error shape, so clients always get JSON."""
    if request.path.startswith("/api/"):
        return error_response(request, 404, message="接口不存在，请检查地址（接口文档：/api/v1/docs）。")
    return error_response(request, 404, message="页面不存在，请检查地址。")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """400 for a request Django could not read (too many fields, too large, a broken upload, a host
    not served here), said in Chinese. A session that could not be saved because the database
    connection was lost answers 503 (``core.middleware.database_unavailable_response``)."""
    from yuexiu.core.middleware import database_unavailable_response, is_database_unavailable

    if is_database_unavailable(exception):
        return database_unavailable_response(request)
    code, message = unreadable_request_message(exception)
    return error_response(request, 400, code=code, message=message)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: a form posted without a valid security token (an old tab, cookies off)."""
    code, message = CSRF_FAILURE
    return error_response(request, 403, code=code, message=message, title="安全校验未通过")


def server_error(request: HttpRequest) -> HttpResponse:
    """500 page; a lost database connection outside a view (a middleware, the session save) answers
    503 as ``DatabaseUnavailableMiddleware`` does for views (the exception being handled is read from
    ``sys.exc_info``: Django calls this handler inside its ``except``)."""
    from yuexiu.core.middleware import database_unavailable_response, is_database_unavailable

    if is_database_unavailable(sys.exc_info()[1]):
        return database_unavailable_response(request)
    return error_response(request, 500, message="系统繁忙，请稍后再试。")


class AdministratorGrantForm(forms.Form):
    username = forms.CharField(label="账号", max_length=150, help_text="须为不担任任何业务角色的工作人员账号。")
    role = forms.ChoiceField(label="管理员角色", choices=[(role, Role(role).label) for role in ADMINISTRATOR_ROLES])
    organisation = forms.ModelChoiceField(
        label="单位", queryset=Organisation.objects.none(), empty_label=None, to_field_name="code"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.filter(  # type: ignore[attr-defined]
            kind__in=(OrganisationKind.DISTRICT, OrganisationKind.DEPARTMENT), is_active=True
        ).order_by("kind", "sort_order", "code")

    def clean_username(self) -> User:
        typed = self.cleaned_data["username"].strip()
        user = User.objects.filter(username_key=identity.username_key(typed), is_active=True).first()
        if user is None:
            raise forms.ValidationError("没有这个账号，或该账号已停用。")
        return user


@any_staff_required
def administrator_roles(request: HttpRequest) -> HttpResponse:
    """管理员授权: the 安全管理员 grants and revokes the three administrator roles (三员分立: the
    system administrator's console cannot, and nobody changes their own roles)."""
    user: User = request.user  # type: ignore[assignment]  # staff_required
    if not services.has_role(user, Role.SECURITY_ADMIN):
        raise PermissionDenied("只有安全管理员可以授予或撤销管理员角色。")
    form = AdministratorGrantForm(prefix="grant")
    if request.method == "POST":
        try:
            if "revoke" in request.POST:
                assignment = RoleAssignment.objects.filter(
                    pk=int(request.POST["revoke"]) if request.POST["revoke"].isdecimal() else 0,
                    role__in=ADMINISTRATOR_ROLES,
                ).first()
                if assignment is None:
                    raise DomainError("未找到该管理员角色，可能已被撤销。")
                services.revoke_role(assignment=assignment, revoked_by=user)
                messages.success(request, f"已撤销 {assignment.user.username} 的{assignment.get_role_display()}角色。")
                return redirect("administrator_roles")
            form = AdministratorGrantForm(request.POST, prefix="grant")
            if form.is_valid():
                data = form.cleaned_data
                assignment = services.grant_role(
                    user=data["username"], role=data["role"], organisation=data["organisation"], granted_by=user
                )
                messages.success(request, f"已授予 {assignment.user.username} {assignment.get_role_display()}角色。")
                return redirect("administrator_roles")
        except (DomainError, PermissionDeniedError) as error:
            if form.is_bound:
                form.add_error(None, error.message)
            else:
                messages.error(request, error.message)
    assignments = (
        RoleAssignment.objects.filter(role__in=ADMINISTRATOR_ROLES)
        .select_related("user", "organisation", "granted_by")
        .order_by("role", "user__username")
    )
    return render(request, "core/administrator_roles.html", {"form": form, "assignments": assignments})
