from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from yuexiu.api import api
from yuexiu.core import observability, views

urlpatterns = [
    path("", views.home, name="home"),
    # answered by core.observability.ObservabilityMiddleware before the rest of the middleware
    path("healthz", observability.healthz, name="healthz"),
    path("readyz", observability.readyz, name="readyz"),
    path("metrics", observability.metrics_view, name="metrics"),
    path("organisations/", views.organisation_list, name="organisation_list"),
    path("organisations/<str:code>/", views.organisation_detail, name="organisation_detail"),
    path("accessibility/elder-mode/", views.toggle_elder_mode, name="toggle_elder_mode"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/register/", views.register, name="register"),
    path("accounts/password-reset/", views.password_reset, name="password_reset"),
    path("accounts/password-reset/confirm/", views.password_reset_confirm, name="password_reset_confirm"),
    path("accounts/unlock/", views.account_unlock, name="account_unlock"),
    path("accounts/unlock/confirm/", views.account_unlock_confirm, name="account_unlock_confirm"),
    path("accounts/password/", views.password_change, name="password_change"),
    path("accounts/profile/", views.profile, name="profile"),
    path("accounts/two-factor/", views.two_factor, name="two_factor"),
    path("workbench/", views.workbench, name="workbench"),
    path("workbench/audit/", views.audit_log, name="audit_log"),
    path("workbench/audit/export.csv", views.audit_log_export, name="audit_log_export"),
    path("workbench/calendar/", views.calendar_admin, name="calendar_admin"),
    path("workbench/administrators/", views.administrator_roles, name="administrator_roles"),
    path("", include("yuexiu.catalog.urls")),
    path("", include("yuexiu.ratings.urls")),
    path("", include("yuexiu.cases.urls")),
    path("", include("yuexiu.supervision.urls")),
    path("", include("yuexiu.policies.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]

if settings.BENCH_BARE_VIEW:  # bench/load_bench.py's baseline only, never in normal running
    urlpatterns.append(path("bench/bare/", views.bench_bare, name="bench_bare"))

handler400 = "yuexiu.core.views.bad_request"
handler403 = "yuexiu.core.views.permission_denied"
handler404 = "yuexiu.core.views.page_not_found"
handler500 = "yuexiu.core.views.server_error"
