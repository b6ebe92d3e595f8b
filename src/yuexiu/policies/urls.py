from __future__ import annotations

from django.urls import path

from yuexiu.policies import views

app_name = "policies"

urlpatterns = [
    path("policies/", views.library, name="library"),
    path("policies/items/<slug:code>/", views.item_detail, name="item"),
    path("policies/items/<slug:code>/apply/", views.apply, name="apply"),
    path("policies/publicity/<int:pk>/", views.publicity, name="publicity"),
    path("policies/mine/", views.mine, name="mine"),
    path("policies/mine/<int:pk>/", views.mine_detail, name="mine_detail"),
    path("workbench/policies/", views.workbench, name="workbench"),
    path("workbench/policies/runs/<int:pk>/", views.run_detail, name="run"),
    path("workbench/policies/items/<slug:code>/", views.item_candidates, name="item_candidates"),
    path("workbench/policies/items/<slug:code>/publish/", views.publish, name="publish"),
    path("workbench/policies/candidates/<int:pk>/", views.candidate_detail, name="candidate"),
    path("workbench/policies/candidates/<int:pk>/<str:action>/", views.candidate_action, name="candidate_action"),
    path("workbench/policies/rules/<slug:code>/", views.rules_edit, name="rules"),
    path("workbench/policies/validity/<slug:code>/", views.validity, name="validity"),
    path("workbench/policies/registry/", views.registry_page, name="registry"),
]
