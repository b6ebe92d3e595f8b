"""Pages of 监督一点通: alerts and supervision orders (respond, verify), supervised items, observations."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from yuexiu.catalog.models import ServiceItem
from yuexiu.core.errors import DomainError, PermissionDeniedError
from yuexiu.core.models import Organisation, OrganisationKind, Role, User
from yuexiu.core.selectors import own_organisation_ids
from yuexiu.core.services import exercised_roles
from yuexiu.core.views import staff_required
from yuexiu.supervision import selectors, services
from yuexiu.supervision.models import SupervisedItem


def _roles(user: User) -> set[str]:
    return exercised_roles(user)


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]  # staff_required
    roles = _roles(user)
    orders = list(selectors.list_orders(user)[:100])
    own = own_organisation_ids(user)  # once, not per order
    return render(
        request,
        "supervision/home.html",
        {
            "alerts": Paginator(selectors.list_alerts(user), 50).get_page(request.GET.get("page")),
            "orders": [(order, order.organisation_id in own) for order in orders],
            "is_supervisor": Role.SUPERVISOR in roles,
            "is_integrity": Role.INTEGRITY_SUPERVISOR in roles,
            "rule_labels": services.RULE_LABELS,
            "departments": Organisation.objects.filter(kind=OrganisationKind.DEPARTMENT).order_by("sort_order"),
        },
    )


@staff_required
@require_POST
def order_action(request: HttpRequest, number: str, action: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]  # staff_required
    order = selectors.list_orders(user).filter(number=number).first()
    if order is None:
        raise PermissionDenied("未找到该督办单或无权处理。")
    version = int(request.POST["version"]) if request.POST.get("version", "").isdecimal() else None
    try:
        if action == "respond":
            services.respond_order(
                order=order, actor=user, response=request.POST.get("response", ""), expected_version=version
            )
        elif action in ("close", "send_back"):
            services.verify_order(
                order=order,
                actor=user,
                accepted=action == "close",
                note=request.POST.get("note", ""),
                expected_version=version,
            )
        else:
            raise Http404("未知操作")
    except PermissionDeniedError as error:
        raise PermissionDenied(error.message) from None
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"督办单 {number} 已更新。")
    return redirect("supervision:home")


@staff_required
def supervised_items(request: HttpRequest) -> HttpResponse:
    """Supervisors choose the items under supervision."""
    user: User = request.user  # type: ignore[assignment]  # staff_required
    if Role.SUPERVISOR not in _roles(user):
        raise PermissionDenied("只有监督人员可以设置重点监督事项。")
    if request.method == "POST":
        item = ServiceItem.objects.filter(
            pk=request.POST.get("item", "0") if request.POST.get("item", "").isdecimal() else 0
        ).first()
        if item is not None:
            services.set_supervised(item=item, supervised=request.POST.get("supervised") == "1", actor=user)
            messages.success(request, f"已更新：{item.name}")
        return redirect("supervision:items")
    watched = set(SupervisedItem.objects.values_list("item_id", flat=True))
    items = (
        ServiceItem.objects.filter(is_active=True)
        .select_related("organisation")
        .order_by("organisation__sort_order", "base_code")
    )
    return render(
        request,
        "supervision/items.html",
        {"rows": [(item, item.pk in watched) for item in items], "count": len(watched)},
    )


@staff_required
@require_POST
def observe(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]  # staff_required
    organisation = Organisation.objects.filter(code=request.POST.get("organisation", "")[:32]).first()
    if organisation is None:
        messages.error(request, "请选择被监督单位。")
        return redirect("supervision:home")
    try:
        order = services.file_observation(
            actor=user, organisation=organisation, content=request.POST.get("content", "")
        )
    except PermissionDeniedError as error:
        raise PermissionDenied(error.message) from None
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"监督意见已提交，督办单 {order.number}。")
    return redirect("supervision:home")


PERIODS = {"30": "近 30 天", "90": "近 90 天", "365": "近一年"}


@staff_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Department and bureau view: on-time rate (按时办结率), average working days, open and overdue
    cases, open alerts and orders, scoped to what the viewer may see; a chart of the on-time rate."""
    user: User = request.user  # type: ignore[assignment]  # staff_required
    period = request.GET.get("days", "90")
    if period not in PERIODS:
        period = "90"
    rows = selectors.department_figures(user, since=timezone.now() - timedelta(days=int(period)))
    chart = {
        "departments": [row.organisation.short_name or row.organisation.name for row in rows],
        "onTimeRate": [round(row.on_time_rate * 100, 1) if row.on_time_rate is not None else None for row in rows],
        "overdue": [row.overdue for row in rows],
    }
    totals = {
        "decided": sum(row.decided for row in rows),
        "on_time": sum(row.on_time for row in rows),
        "open_cases": sum(row.open_cases for row in rows),
        "overdue": sum(row.overdue for row in rows),
        "open_alerts": sum(row.open_alerts for row in rows),
        "open_orders": sum(row.open_orders for row in rows),
    }
    totals["rate"] = round(totals["on_time"] / totals["decided"] * 100, 1) if totals["decided"] else None
    return render(
        request,
        "supervision/dashboard.html",
        {"rows": rows, "chart": chart, "totals": totals, "period": period, "periods": PERIODS},
    )
