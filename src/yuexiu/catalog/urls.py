from __future__ import annotations

from django.urls import path

from yuexiu.catalog import views

app_name = "catalog"

urlpatterns = [
    path("services/", views.catalogue_home, name="home"),
    path("services/search/", views.search, name="search"),
    path("services/items/", views.item_list, name="item_list"),
    path("services/items/<slug:slug>/", views.item_detail, name="item_detail"),
    path("services/items/<slug:slug>/versions/<int:number>/", views.item_version, name="item_version"),
    path("services/bundles/<slug:slug>/", views.bundle_detail, name="bundle_detail"),
    path("services/export.<str:file_format>", views.catalogue_export, name="export"),
    path("workbench/guides/", views.guide_workbench, name="guide_workbench"),
    path("workbench/guides/items/<slug:slug>/draft/", views.start_draft, name="start_draft"),
    path("workbench/guides/<int:pk>/", views.guide_version, name="guide_version"),
    path("workbench/guides/<int:pk>/<str:action>/", views.guide_version_action, name="guide_version_action"),
    path("workbench/guide-checks/", views.guide_checks, name="guide_checks"),
    path("workbench/guide-checks/run/", views.run_guide_checks, name="run_guide_checks"),
    path("workbench/guide-checks/export.xlsx", views.guide_checks_export, name="guide_checks_export"),
    path("workbench/catalog/import/", views.catalogue_import, name="import"),
]
