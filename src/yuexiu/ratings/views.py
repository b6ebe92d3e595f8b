"""Pages of 好差评: the rating page behind the QR code, the applicant's rating on the case page, and
the published statistics (no personal data)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST

from yuexiu.cases import selectors as case_selectors
from yuexiu.cases.models import Case
from yuexiu.core import identity, rules
from yuexiu.core.errors import Conflict, DomainError, NotFound, PermissionDeniedError
from yuexiu.core.models import Role, User
from yuexiu.core.public_cache import cache_page_for_anonymous
from yuexiu.core.selectors import own_organisation_ids
from yuexiu.core.services import has_role
from yuexiu.core.views import staff_required
from yuexiu.ratings import selectors, services
from yuexiu.ratings.forms import posted_rating, rating_form
from yuexiu.ratings.models import (
    STEP_ORDER,
    Appeal,
    AppealKind,
    CheckOutcome,
    Classification,
    DeviceKind,
    HandlingReview,
    Level,
    QuestionSet,
    Rating,
    RatingChannel,
    RatingDevice,
    Rectification,
    ReviewChannel,
    ReviewOutcome,
    SelfCheck,
    Step,
    Visit,
)

RATING_DRAFT_KEY = "rating_draft"
REVIEW_DRAFT_KEY = "rating_review_draft"


def rate_by_token(request: HttpRequest, token: str) -> HttpResponse:
    """The page the QR code on the result notice opens: no login, the token names the case."""
    try:
        case = services.case_from_token(token)
    except NotFound as error:
        return render(request, "core/error.html", {"message": error.message}, status=404)
    if request.user.is_authenticated and request.user.is_staff_account:  # type: ignore[union-attr]
        raise PermissionDenied("工作人员不能通过评价链接评价办件。")
    already = Rating.objects.filter(case=case).exists()
    posted: dict[str, Any] | None = None
    refusal: DomainError | None = None
    if request.method == "POST" and not already:
        posted = posted_rating(request.POST)
        try:
            channel = RatingChannel.SMS if services.token_channel(token) == "sms" else RatingChannel.QR
            services.rate_case(case=case, channel=channel, **posted)
        except (DomainError, PermissionDeniedError) as error:
            refusal = error
        else:
            return render(request, "ratings/thanks.html", {"case": case})
    return _rate_page(request, case, token, posted=posted, refusal=refusal)


def _rate_page(
    request: HttpRequest,
    case: Case,
    token: str,
    *,
    posted: dict[str, Any] | None = None,
    refusal: DomainError | None = None,
    review_error: str = "",
    review_reason: str = "",
) -> HttpResponse:
    """The rating link's page: the form, or once rated, how a 差评 is handled and the review request."""
    rating = Rating.objects.select_related("rectification").filter(case=case).first()
    questions = services.current_question_set(case).questions
    return render(
        request,
        "ratings/rate.html",
        {
            "case": case,
            "already": rating is not None,
            "rating_form": rating_form(questions=questions, posted=posted, error=refusal),
            "handling": selectors.handling_for_rater(rating),
            "review_action": reverse("ratings:review_by_token", args=[token]),
            "review_error": review_error,
            "review_reason": review_reason,
        },
        status=400 if review_error else 200,
    )


@require_POST
def review_by_token(request: HttpRequest, token: str) -> HttpResponse:
    """The rater asks for a review of their 差评's handling from the rating link (no login: the token of
    the result notice or the SMS names the case, whose applicant is the rater)."""
    try:
        case = services.case_from_token(token)
    except NotFound as error:
        return render(request, "core/error.html", {"message": error.message}, status=404)
    if request.user.is_authenticated and request.user.is_staff_account:  # type: ignore[union-attr]
        raise PermissionDenied("工作人员不能通过评价链接申请复核。")
    rating = Rating.objects.filter(case=case).first()
    reason = request.POST.get("reason", "")
    try:
        if rating is None:
            raise Conflict("该办件尚未评价。", code="review_refused")
        services.request_handling_review(rating=rating, reason=reason, channel=ReviewChannel.LINK)
    except PermissionDeniedError as error:
        raise PermissionDenied(error.message) from None
    except DomainError as error:
        return _rate_page(request, case, token, review_error=error.message, review_reason=reason)
    messages.success(request, "复核申请已提交，监督人员作出结论后将通知您。")
    return redirect("ratings:rate", token=token)


@login_required
@require_POST
def review_on_portal(request: HttpRequest, number: str) -> HttpResponse:
    """The rater asks from the case page for a review of how their 差评 was handled (申诉复核). A refused
    request goes back to the case page with the reason kept for the form (``case_panel``)."""
    user: User = request.user  # type: ignore[assignment]  # login_required
    reason = request.POST.get("reason", "")
    try:
        case = case_selectors.access_case(user, number)
        rating = Rating.objects.filter(case=case).first()
        if rating is None:
            raise Conflict("该办件尚未评价。", code="review_refused")
        services.request_handling_review(rating=rating, reason=reason, channel=ReviewChannel.PORTAL, requester=user)
    except NotFound as error:
        return render(request, "core/error.html", {"message": error.message}, status=404)
    except PermissionDeniedError as error:
        raise PermissionDenied(error.message) from None
    except DomainError as error:
        request.session[REVIEW_DRAFT_KEY] = {"case": number, "reason": reason, "message": error.message}
    else:
        messages.success(request, "复核申请已提交，监督人员作出结论后将通知您。")
    return redirect(reverse("cases:detail", args=[number]) + "#handling")


@login_required
@require_POST
def rate_on_portal(request: HttpRequest, number: str) -> HttpResponse:
    """The applicant rates a finished case from its page (网上办事大厅). A refused rating goes back to the
    case page with the person's choices and the error kept in the session for the rating section
    (``ratings.apps.RatingsConfig.case_panel``) to show once."""
    user: User = request.user  # type: ignore[assignment]  # login_required
    posted = posted_rating(request.POST)
    try:
        case = case_selectors.access_case(user, number)
        services.rate_case(case=case, rater=user, channel=RatingChannel.PORTAL, **posted)
    except NotFound as error:
        return render(request, "core/error.html", {"message": error.message}, status=404)
    except PermissionDeniedError as error:
        raise PermissionDenied(error.message) from None
    except DomainError as error:
        request.session[RATING_DRAFT_KEY] = {
            "case": case.number,
            "posted": posted,
            "message": error.message,
            "code": error.code,
            "details": error.details,
        }
    else:
        messages.success(request, "感谢您的评价。")
    return redirect("cases:detail", number=number)


PERIODS = {"30": "近 30 天", "90": "近 90 天", "365": "近一年"}


@cache_page_for_anonymous("ratings", lambda: settings.RATINGS_STATISTICS_CACHE_SECONDS)
def statistics(request: HttpRequest) -> HttpResponse:
    """The public statistics page: rates per department, item, channel or month, and the monthly trend
    as a chart, over real-name ratings; anonymous on-site ratings in a section of their own. No personal
    data."""
    period = request.GET.get("days", "365")
    if period not in PERIODS:
        period = "365"
    dimension = request.GET.get("by", "department")
    if dimension not in services.DIMENSIONS:
        dimension = "department"
    since = timezone.now() - timedelta(days=int(period))
    total, rows = services.rating_statistics(since=since, dimension=dimension)
    _, months = services.rating_statistics(since=since, dimension="month")
    chart = {
        "months": [row.label for row in months],
        "good": [row.good_rate for row in months],
        "negative": [row.negative_rate for row in months],
    }
    return render(
        request,
        "ratings/statistics.html",
        {
            "total": total,
            "period": period,
            "periods": PERIODS,
            "dimension": dimension,
            "dimensions": services.DIMENSIONS,
            "dimension_label": services.DIMENSIONS[dimension],
            "real_name_rows": [row for row in rows if row.finished_cases or row.ratings],
            "anonymous_rows": [row for row in rows if not row.anonymous.is_empty],
            "chart": chart,
        },
    )


@staff_required
def statistics_export(request: HttpRequest) -> HttpResponse:
    """The statistics as Excel, one sheet per dimension (for the bureau's reports)."""
    period = request.GET.get("days", "365")
    days = int(period) if period in PERIODS else 365
    data = services.statistics_workbook(since=timezone.now() - timedelta(days=days))
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = 'attachment; filename="ratings-statistics.xlsx"'
    return response


@staff_required
def workbench(request: HttpRequest) -> HttpResponse:
    """差评整改 for the responsible units, callbacks (回访) for the 12345 hotline and supervisors, and
    the units' appeals and the raters' review requests (申诉复核) for the bureau's supervisors to
    decide. The rater's identity is not shown (the contact for verification and the callback is the
    masked phone of the case)."""
    user: User = request.user  # type: ignore[assignment]  # staff_required
    is_supervisor = has_role(user, Role.SUPERVISOR)
    own = own_organisation_ids(user)  # once, not per row
    is_caller = services.makes_callbacks(user)
    appeals = Appeal.objects.filter(upheld__isnull=True).select_related("rating__case__item") if is_supervisor else []
    reviews = [
        {"review": review, "can_decide": services.can_decide_review(user, review, own, is_supervisor=is_supervisor)}
        for review in (selectors.list_reviews_to_decide(user)[:200] if is_supervisor else [])
    ]
    rows = []
    for rectification in selectors.list_rectifications(user).prefetch_related("reviews")[:200]:
        case = rectification.rating.case
        in_unit = rectification.organisation_id in own
        if rectification.step == Step.CALLBACK:
            can_advance = services.can_make_callback(user, rectification, own, is_caller=is_caller)
        else:
            can_advance = in_unit and rectification.step != Step.CLOSED
        rows.append(
            {
                "rectification": rectification,
                "phone": identity.mask_phone(case.applicant_phone) if case else "",
                "can_advance": can_advance,
                "can_appeal": in_unit and rectification.step != Step.CLOSED,
                "review": max(rectification.reviews.all(), key=lambda review: review.requested_at, default=None),
            }
        )
    try:
        step_rule = rules.get_rule("ratings.rectification_step_days")
    except NotFound:
        step_rule = None
    step_days = [  # in the loop's order (a JSON object's keys have none on PostgreSQL)
        (step.label, step_rule.value[step]) for step in STEP_ORDER if step_rule and step in step_rule.value
    ]
    return render(
        request,
        "ratings/workbench.html",
        {
            "rows": rows,
            "step_rule": step_rule,
            "step_days": step_days,
            "is_window": has_role(user, Role.WINDOW_OFFICER),
            "is_hotline_operator": has_role(user, Role.HOTLINE_OPERATOR),  # only they enter 12345 ratings
            "appeals": appeals,
            "reviews": reviews,
            "review_outcomes": ReviewOutcome,
            "is_supervisor": is_supervisor,
            "classifications": Classification.choices,
            "levels": list(reversed(Level.choices)),
            "appeal_kinds": AppealKind.choices,
        },
    )


@staff_required
@require_POST
def workbench_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]  # staff_required
    post = request.POST
    try:
        if action == "advance":
            rectification = Rectification.objects.filter(pk=pk).first()
            if rectification is None:
                raise Http404("未找到该差评整改")
            level = post.get("callback_level", "")
            if not post.get("version", "").isdecimal():
                raise DomainError("页面已过期，请刷新后再操作。")
            services.advance_rectification(
                rectification=rectification,
                actor=user,
                note=post.get("note", ""),
                classification=post.get("classification", ""),
                callback_level=int(level) if level.isdecimal() else None,
                expected_version=int(post["version"]) if post.get("version", "").isdecimal() else None,
            )
        elif action == "appeal":
            rating = Rating.objects.filter(pk=pk).first()
            if rating is None:
                raise Http404("未找到该评价")
            services.file_appeal(rating=rating, actor=user, kind=post.get("kind", ""), reason=post.get("reason", ""))
        elif action in ("maintain", "redo"):
            review = HandlingReview.objects.filter(pk=pk).first()
            if review is None:
                raise Http404("未找到该复核申请")
            services.decide_handling_review(
                review=review,
                actor=user,
                outcome=ReviewOutcome.MAINTAINED if action == "maintain" else ReviewOutcome.REDO,
                decision=post.get("decision", ""),
            )
        elif action in ("uphold", "reject"):
            appeal = Appeal.objects.filter(pk=pk).first()
            if appeal is None:
                raise Http404("未找到该申诉")
            services.decide_appeal(
                appeal=appeal, actor=user, upheld=action == "uphold", decision=post.get("decision", "")
            )
        else:
            raise Http404("未知操作")
    except PermissionDeniedError as error:
        raise PermissionDenied(error.message) from None
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "已更新。")
    return redirect("ratings:workbench")


@staff_required
def self_check(request: HttpRequest) -> HttpResponse:
    """自查: supervisors draw good ratings for verification calls and record each outcome."""
    user: User = request.user  # type: ignore[assignment]  # staff_required
    if not has_role(user, Role.SUPERVISOR):
        raise PermissionDenied("只有监督人员可以开展评价自查。")
    if request.method == "POST":
        try:
            if "sample" in request.POST:
                count = request.POST.get("count", "")
                drawn = services.sample_for_self_check(
                    actor=user, since=timezone.now() - timedelta(days=90), count=int(count) if count.isdecimal() else 0
                )
                messages.success(request, f"已抽取 {len(drawn)} 条评价。")
            else:
                check = SelfCheck.objects.filter(pk=request.POST.get("check", "0") or 0).first()
                if check is None:
                    raise Http404("未找到该自查记录")
                services.record_self_check(
                    check=check, actor=user, outcome=request.POST.get("outcome", ""), note=request.POST.get("note", "")
                )
                messages.success(request, "已记录核查结果。")
        except DomainError as error:
            messages.error(request, error.message)
        return redirect("ratings:self_check")
    checks = SelfCheck.objects.select_related("rating__case__item", "rating__case__organisation")[:200]
    return render(request, "ratings/self_check.html", {"checks": checks, "outcomes": CheckOutcome.choices})


@staff_required
@require_POST
def hotline_entry(request: HttpRequest) -> HttpResponse:
    """12345: an operator types in the rating a caller gave by phone."""
    user: User = request.user  # type: ignore[assignment]  # staff_required
    case = Case.objects.filter(number=request.POST.get("number", "").strip()[:32]).first()
    level = request.POST.get("level", "")
    try:
        if case is None:
            raise DomainError("未找到该办件编号。")
        services.enter_hotline_rating(
            case=case, actor=user, level=int(level) if level.isdecimal() else 0, comment=request.POST.get("comment", "")
        )
    except PermissionDeniedError as error:
        messages.error(request, error.message)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"已录入办件 {case.number} 的热线评价。")  # type: ignore[union-attr]  # case checked above
    return redirect("ratings:workbench")


@staff_required
@require_POST
def record_visit(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]  # staff_required
    try:
        visit = services.record_visit(actor=user, window_name=request.POST.get("window_name", ""))
    except PermissionDeniedError as error:
        raise PermissionDenied(error.message) from None
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, f"已登记。请群众在窗口评价器评价，或凭评价码 {visit.code} 在自助终端评价（当日有效）。"
        )
    return redirect("ratings:workbench")


def _unbound_device(request: HttpRequest, kind: str) -> HttpResponse:
    """An unbound (or revoked) device gets a page saying staff must bind it, and nothing to rate."""
    return render(request, "ratings/device_unbound.html", {"kind_label": DeviceKind(kind).label}, status=403)


def _with_device_cookie(response: HttpResponse, token: str) -> HttpResponse:
    """Set (or renew) the cookie that binds this browser as a rating device. The device's pages hold a
    visit's code and depend on the cookie: no cache keeps them."""
    add_never_cache_headers(response)
    response.set_cookie(
        settings.RATING_DEVICE_COOKIE_NAME,
        token,
        max_age=settings.RATING_DEVICE_COOKIE_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def _rate_visit_page(
    request: HttpRequest, visit: Visit | None, channel: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    posted: dict[str, Any] | None = None
    refusal: DomainError | None = None
    if request.method == "POST" and visit is not None:
        posted = posted_rating(request.POST)
        try:
            services.rate_visit(visit=visit, channel=channel, **posted)
        except DomainError as error:
            refusal = error
        else:
            return render(request, "ratings/visit_thanks.html", context)
    questions = (
        QuestionSet.objects.filter(kind="offline").order_by("-version").values_list("questions", flat=True).first()
    )
    return render(
        request,
        "ratings/visit_rate.html",
        {
            **context,
            "visit": visit,
            "rating_form": rating_form(questions=questions or [], posted=posted, error=refusal),
        },
        status=status,
    )


def tablet(request: HttpRequest) -> HttpResponse:
    """The tablet at a window: it offers the visit that has just ended there (一次一评). Only a device
    bound by the window's staff (``RatingDevice``, its cookie) shows anything: the device names the
    window."""
    token = request.COOKIES.get(settings.RATING_DEVICE_COOKIE_NAME)
    device = services.device_from_token(token, DeviceKind.TABLET)
    if device is None:
        return _unbound_device(request, DeviceKind.TABLET)
    visit = services.latest_unrated_visit(device.organisation, device.window_name)
    if request.method == "POST" and request.POST.get("visit") != (visit.code if visit else None):
        visit = None  # the visit on screen was rated or replaced meanwhile
    response = _rate_visit_page(
        request, visit, RatingChannel.WINDOW, {"window_name": device.window_name, "mode": "tablet"}
    )
    return _with_device_cookie(response, token)  # type: ignore[arg-type]  # a bound device has its token


def kiosk(request: HttpRequest) -> HttpResponse:
    """The self-service kiosk: the code printed on the ticket opens the visit for rating, on a device
    bound by staff; wrong codes are limited per device and per address, and a code expires at the end
    of its day (``services.visit_for_code``)."""
    token = request.COOKIES.get(settings.RATING_DEVICE_COOKIE_NAME)
    device = services.device_from_token(token, DeviceKind.KIOSK)
    if device is None:
        return _unbound_device(request, DeviceKind.KIOSK)
    code = (request.POST.get("code") or request.GET.get("code") or "").strip()[:8]
    visit = None
    code_error = ""
    status = 200
    if code:
        try:
            visit = services.visit_for_code(device=device, code=code)
        except DomainError as error:
            code_error = error.message
            status = 429 if error.code == "too_many_requests" else 200
    response = _rate_visit_page(
        request, visit, RatingChannel.KIOSK, {"mode": "kiosk", "code": code, "code_error": code_error}, status=status
    )
    return _with_device_cookie(response, token)  # type: ignore[arg-type]  # a bound device has its token


@staff_required
def devices(request: HttpRequest) -> HttpResponse:
    """Window officers bind the browser they are using as their window's tablet or as a kiosk, and
    revoke their organisation's devices. Binding sets the device's cookie and opens its page."""
    user: User = request.user  # type: ignore[assignment]  # staff_required
    if not services.can_manage_devices(user):
        raise PermissionDenied("只有窗口工作人员可以管理评价设备。")
    if request.method == "POST":
        current = services.device_from_token(request.COOKIES.get(settings.RATING_DEVICE_COOKIE_NAME))
        try:
            if "revoke" in request.POST:
                device = RatingDevice.objects.filter(pk=request.POST.get("revoke", "0") or 0).first()
                if device is None:
                    raise Http404("未找到该设备")
                services.revoke_device(actor=user, device=device)
                messages.success(request, f"已解绑{device}。")
                return redirect("ratings:devices")
            kind = request.POST.get("kind", "")
            device, token = services.bind_device(
                actor=user, kind=kind, window_name=request.POST.get("window_name", ""), replaces=current
            )
        except PermissionDeniedError as error:
            raise PermissionDenied(error.message) from None
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("ratings:devices")
        messages.success(request, f"本设备已绑定为{device}。请退出登录后交给群众使用。")
        target = "ratings:tablet" if device.kind == DeviceKind.TABLET else "ratings:kiosk"
        return _with_device_cookie(redirect(target), token)
    own = own_organisation_ids(user)
    listed = RatingDevice.objects.filter(organisation_id__in=own, revoked_at__isnull=True).select_related(
        "organisation", "issued_by"
    )
    return render(request, "ratings/devices.html", {"devices": listed, "kinds": DeviceKind.choices})
