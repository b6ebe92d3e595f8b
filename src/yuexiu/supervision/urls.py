from __future__ import annotations

from django.urls import path

from yuexiu.supervision import views

app_name = "supervision"

urlpatterns = [
    path("workbench/supervision/", views.home, name="home"),
    path("workbench/supervision/items/", views.supervised_items, name="items"),
    path("workbench/dashboard/", views.dashboard, name="dashboard"),
    path("workbench/supervision/observations/", views.observe, name="observe"),
    path("workbench/supervision/orders/<str:number>/<str:action>/", views.order_action, name="order_action"),
]
