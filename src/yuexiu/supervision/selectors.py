"""Reads of supervision, scoped: staff see their organisations' alerts and orders; supervisors and
integrity supervisors see the district."""

from __future__ import annotations

from django.db.models import QuerySet

from yuexiu.core.models import User
from yuexiu.core.selectors import scope_to_user
from yuexiu.supervision.models import Alert, OrderStatus, SupervisionOrder


def list_alerts(user: User) -> QuerySet[Alert]:
    return scope_to_user(Alert.objects.select_related("case__item", "organisation"), user).order_by("-fired_at", "-id")


def list_orders(user: User, *, open_only: bool = False) -> QuerySet[SupervisionOrder]:
    orders = scope_to_user(SupervisionOrder.objects.select_related("organisation", "case", "alert"), user)
    if open_only:
        orders = orders.exclude(status=OrderStatus.CLOSED)
    return orders.order_by("status", "due_at", "id")
