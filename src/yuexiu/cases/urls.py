from __future__ import annotations

from django.urls import path

from yuexiu.cases import views

app_name = "cases"

urlpatterns = [
    path("services/items/<slug:slug>/apply/", views.apply, name="apply"),
    path("services/bundles/<slug:slug>/apply/", views.bundle_apply, name="bundle_apply"),
    path("cases/", views.my_cases, name="my_cases"),
    path("cases/bundles/<str:number>/", views.bundle_detail, name="bundle_detail"),
    path("cases/bundles/<str:number>/<str:action>/", views.bundle_act, name="bundle_act"),
    path("cases/<str:number>/", views.detail, name="detail"),
    path("cases/<str:number>/files/<int:attachment_id>/", views.download, name="download"),
    path("cases/<str:number>/<str:action>/", views.act, name="act"),
    path("workbench/cases/", views.queue, name="queue"),
    path("workbench/cases/register/<slug:slug>/", views.register, name="register"),
]
