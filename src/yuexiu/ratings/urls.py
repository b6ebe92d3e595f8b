from __future__ import annotations

from django.urls import path

from yuexiu.ratings import views

app_name = "ratings"

urlpatterns = [
    path("ratings/", views.statistics, name="statistics"),
    path("ratings/r/<str:token>/", views.rate_by_token, name="rate"),
    path("ratings/r/<str:token>/review/", views.review_by_token, name="review_by_token"),
    path("cases/<str:number>/rating/", views.rate_on_portal, name="rate_on_portal"),
    path("cases/<str:number>/rating/review/", views.review_on_portal, name="review_on_portal"),
    path("workbench/ratings/", views.workbench, name="workbench"),
    path("workbench/ratings/export.xlsx", views.statistics_export, name="statistics_export"),
    path("workbench/ratings/self-check/", views.self_check, name="self_check"),
    path("workbench/ratings/hotline/", views.hotline_entry, name="hotline_entry"),
    path("workbench/ratings/visits/", views.record_visit, name="record_visit"),
    path("workbench/ratings/devices/", views.devices, name="devices"),
    path("ratings/tablet/", views.tablet, name="tablet"),
    path("ratings/kiosk/", views.kiosk, name="kiosk"),
    path("workbench/ratings/<int:pk>/<str:action>/", views.workbench_action, name="workbench_action"),
]
