"""Every URL pattern × every role: who may reach each page (ASVS V4 access control).

The patterns come from the URL resolver, so a new page cannot be forgotten: a pattern missing from
``EXPECTED`` (or an entry whose pattern no longer exists) fails the test. Path parameters are filled
with real objects of the demo (``yuexiu setup --demo``: cases, ratings, orders, candidates of every
role) and of the admin console's models. A pattern whose view accepts only POST is sent an empty
POST inside a savepoint that is rolled back, so the gates before any validation are what is
measured and no request changes what the next one sees.

Outcomes: ``200``; ``login`` (302 to the sign-in page, the site's or the admin console's); ``302``
(any other redirect: a POST action sent back to its page with a message, the logout); ``403``;
``404``; ``405`` (the view's method gate, reached only past the access gates before it).
"""

from __future__ import annotations

import logging
import os
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver

from yuexiu.core.models import User

# role → demo account (None: not signed in)
ROLES: dict[str, str | None] = {
    "anonymous": None,
    "citizen": "citizen_demo",
    "enterprise": "enterprise_demo",
    "window_officer": "window_centre",
    "approver": "approver_scj",
    "guide_editor": "editor_scj",
    "guide_reviewer": "reviewer_zsj",
    "policy_officer": "policy_kgsxj",
    "hotline_operator": "hotline_demo",
    "supervisor": "supervisor_demo",
    "integrity_supervisor": "integrity_demo",
    "data_officer": "data_officer",
    "chief_data_officer": "chief_data_officer",
    "system_admin": "sysadmin",
    "security_admin": "secadmin",
    "audit_admin": "auditadmin",
}


def url_patterns(resolver: URLResolver | None = None, prefix: str = "") -> list[tuple[str, URLPattern]]:
    """Every pattern of the project's URL configuration, as its full route text."""
    resolver = resolver or get_resolver()
    found: list[tuple[str, URLPattern]] = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            found.extend(url_patterns(entry, prefix + str(entry.pattern)))
        else:
            found.append((prefix + str(entry.pattern), entry))
    return found


def outcome(response) -> str:
    if response.status_code in (301, 302):
        target = response.headers.get("Location", "")
        return "login" if "/login/" in target.split("?")[0] else "302"
    return str(response.status_code)


@pytest.fixture
def small_registry(monkeypatch):
    monkeypatch.setattr("yuexiu.policies.demo.DEMO_REGISTRY_SIZE", 200)


def table_line(route: str, row: dict[str, str]) -> str:
    """``row`` as a line of ``EXPECTED``'s table."""
    short = {"200": "ok", "login": "in"}
    return f"{route or '/':66}" + "".join(f"{short.get(row[role], row[role]):>5}" for role in ROLES)


def _record() -> bool:
    return os.environ.get("ROUTE_MATRIX_RECORD") == "1"


def path_values() -> dict[str, dict[str, object]]:
    """Real objects of the demo for every route with parameters (route text → keyword arguments)."""
    from yuexiu.cases.models import Attachment, BundleCase, Case
    from yuexiu.catalog.models import GuideStatus, GuideVersion, ServiceBundle, ServiceItem
    from yuexiu.policies.models import Candidate, MatchRun, Publicity
    from yuexiu.ratings.models import Rectification, Visit
    from yuexiu.ratings.services import rating_token, record_visit
    from yuexiu.supervision.models import SupervisionOrder

    food = ServiceItem.objects.get(seed_key="food-business-licence-new")
    version = GuideVersion.objects.filter(item=food, status=GuideStatus.PUBLISHED).order_by("-number").first()
    bundle = ServiceBundle.objects.order_by("pk").first()
    enterprise = User.objects.get(username="enterprise_demo")
    # the enterprise's case handled by 区市场监管局 (approver_scj) and taken in at the bureau's window
    case = (
        Case.objects.filter(
            applicant=enterprise, organisation__code="440104-SJJ", intake_organisation__code="440104-ZSJ"
        )
        .exclude(attachments=None)
        .order_by("pk")
        .first()
    )
    attachment = Attachment.objects.filter(case=case).order_by("pk").first()
    bundle_case = BundleCase.objects.order_by("pk").first() or _bundle_case()
    # a candidate of 区科工商信局 (policy_kgsxj), the demo enterprise's if there is one
    candidates = Candidate.objects.filter(item__organisation__code="440104-KGSXJ").order_by("pk")
    candidate = (
        candidates.filter(enterprise__uscc=enterprise.enterprise_uscc).first() or candidates.first() or _candidate()
    )
    item = candidate.item if candidate else None
    rectification = Rectification.objects.filter(organisation__code="440104-SJJ").order_by("pk").first()
    order = SupervisionOrder.objects.filter(organisation__code="440104-SJJ").order_by("pk").first()
    visit = Visit.objects.order_by("pk").first() or record_visit(
        actor=User.objects.get(username="window_centre"), window_name="综合窗口 3 号"
    )
    needed = [food, version, bundle, case, attachment, bundle_case, candidate, rectification, order, visit]
    assert all(needed), f"the demo no longer makes an object the matrix needs: {needed}"
    return {
        "organisations/<str:code>/": {"code": "440104-ZSJ"},
        "services/items/<slug:slug>/": {"slug": food.slug},
        "services/items/<slug:slug>/versions/<int:number>/": {"slug": food.slug, "number": version.number},
        "services/bundles/<slug:slug>/": {"slug": bundle.slug},
        "services/export.<str:file_format>": {"file_format": "csv"},
        "workbench/guides/items/<slug:slug>/draft/": {"slug": food.slug},
        "workbench/guides/<int:pk>/": {"pk": version.pk},
        "workbench/guides/<int:pk>/<str:action>/": {"pk": version.pk, "action": "submit"},
        "ratings/r/<str:token>/": {"token": rating_token(case)},
        "cases/<str:number>/rating/": {"number": case.number},
        "cases/<str:number>/rating/review/": {"number": case.number},
        "ratings/r/<str:token>/review/": {"token": rating_token(case)},
        "workbench/ratings/<int:pk>/<str:action>/": {"pk": rectification.pk, "action": "advance"},
        "services/items/<slug:slug>/apply/": {"slug": food.slug},
        "services/bundles/<slug:slug>/apply/": {"slug": bundle.slug},
        "cases/bundles/<str:number>/": {"number": bundle_case.number},
        "cases/bundles/<str:number>/<str:action>/": {"number": bundle_case.number, "action": "accept"},
        "cases/<str:number>/": {"number": case.number},
        "cases/<str:number>/files/<int:attachment_id>/": {"number": case.number, "attachment_id": attachment.pk},
        "cases/<str:number>/<str:action>/": {"number": case.number, "action": "accept"},
        "workbench/cases/register/<slug:slug>/": {"slug": food.slug},
        "workbench/supervision/orders/<str:number>/<str:action>/": {"number": order.number, "action": "respond"},
        "policies/items/<slug:code>/": {"code": item.code},
        "policies/items/<slug:code>/apply/": {"code": item.code},
        "policies/publicity/<int:pk>/": {"pk": Publicity.objects.order_by("pk").first().pk},
        "policies/mine/<int:pk>/": {"pk": candidate.pk},
        "workbench/policies/runs/<int:pk>/": {"pk": MatchRun.objects.order_by("pk").first().pk},
        "workbench/policies/items/<slug:code>/": {"code": item.code},
        "workbench/policies/items/<slug:code>/publish/": {"code": item.code},
        "workbench/policies/candidates/<int:pk>/": {"pk": candidate.pk},
        "workbench/policies/candidates/<int:pk>/<str:action>/": {"pk": candidate.pk, "action": "approve"},
        "workbench/policies/rules/<slug:code>/": {"code": item.policy.code},
        # a 区科工商信局 document whose source printed no dates (有效期待核实)
        "workbench/policies/validity/<slug:code>/": {"code": "gd-smallup-2025"},
        "api/v1/organisations/<code>": {"code": "440104-ZSJ"},
        "api/v1/catalog/items/<slug>": {"slug": food.slug},
        "api/v1/catalog/items/<slug>/versions/<number>": {"slug": food.slug, "number": version.number},
        "api/v1/catalog/bundles/<slug>": {"slug": bundle.slug},
        "api/v1/cases/<number>": {"number": case.number},
        "api/v1/policies/items/<code>": {"code": item.code},
        "api/v1/policies/items/<code>/precheck": {"code": item.code},
        "api/v1/policies/runs/<run_id>": {"run_id": MatchRun.objects.order_by("pk").first().pk},
        "admin/r/<path:content_type_id>/<path:object_id>/": {
            "content_type_id": ContentType.objects.get(app_label="catalog", model="serviceitem").pk,
            "object_id": food.pk,
        },
        "admin/^(?P<app_label>auth|otp_totp|axes|core|django_q|catalog)/$": {"app_label": "core"},
        "admin/(?P<url>.*)$": {"url": "no-such-page/"},
    }


def _candidate():
    """A candidate of the tests' fixture policy (区科工商信局, dated, with a fund pool) for the demo
    enterprise: the demo's own library makes none (illustrations never become candidates and the real
    documents wait for their validity to be recorded)."""
    from datetime import date
    from decimal import Decimal

    from yuexiu.policies import services
    from yuexiu.policies.models import Candidate, Enterprise, MatchRun

    services.load_policy_library(Path(__file__).parent / "policies" / "rules")
    uscc = User.objects.get(username="enterprise_demo").enterprise_uscc
    Enterprise.objects.filter(uscc=uscc).update(rd_expense=Decimal("1200000"), credit_status="良好")
    officer = User.objects.get(username="policy_kgsxj")
    run = MatchRun.objects.create(period=2026, as_of=date(2026, 3, 2), started_by=officer)
    services.execute_run(run.pk)
    # another enterprise's candidacy approved and published, for the 公示 page
    published = (
        Candidate.objects.filter(item__code="loop-test-2025-01").exclude(enterprise__uscc=uscc).order_by("pk").first()
    )
    services.review(candidate_id=published.pk, user=officer, approve=True)
    services.publish(item_id=published.item_id, user=officer)
    return Candidate.objects.filter(enterprise__uscc=uscc, item__code="loop-test-2025-01").first()


def _bundle_case():
    """新生儿出生一件事 applied for by the demo citizen (the demo makes no 一件事 case)."""
    from tests.cases.test_bundle_cases import FORM
    from yuexiu.cases.services import Upload, submit_bundle_application
    from yuexiu.catalog.models import ServiceBundle

    return submit_bundle_application(
        bundle=ServiceBundle.objects.get(seed_key="newborn-birth"),
        applicant=User.objects.get(username="citizen_demo"),
        idempotency_key="route-matrix",
        form_data=FORM,
        uploads=[Upload("结婚证", "结婚证.pdf", b"%PDF-1.4 marriage")],
    )


def admin_object_values() -> dict[str, str]:
    """For each model of the admin console, the primary key of one of its objects (made when the demo
    has none), keyed by ``app_label/model_name``."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib import admin
    from django.contrib.auth.models import Group
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from django_q.models import OrmQ, Task

    if not Group.objects.exists():
        Group.objects.create(name="演示组")
    if not TOTPDevice.objects.exists():  # on an account of its own: its owner must pass two-factor
        owner = User(
            username="otp_owner", account_type="staff", organisation=User.objects.get(username="secadmin").organisation
        )
        owner.save()
        TOTPDevice.objects.create(user=owner, name="手机", confirmed=True)
    if not AccessAttempt.objects.exists():
        AccessAttempt.objects.create(username="nobody", ip_address="203.0.113.9", failures_since_start=1)
    if not AccessLog.objects.exists():
        AccessLog.objects.create(username="nobody", ip_address="203.0.113.9")
    if not AccessFailureLog.objects.exists():
        AccessFailureLog.objects.create(username="nobody", ip_address="203.0.113.9")
    for success in (True, False):
        if not Task.objects.filter(success=success).exists():
            Task.objects.create(
                id=f"matrix{success:d}",
                name=f"matrix-{success}",
                func="math.floor",
                success=success,
                started="2026-12-01T00:00Z",
                stopped="2026-12-01T00:00Z",
            )
    if not OrmQ.objects.exists():
        OrmQ.objects.create(key="default", payload="x", lock=None)
    values = {}
    for model in admin.site._registry:
        obj = model._default_manager.order_by("pk").first()
        assert obj is not None, f"no {model._meta.label} for the admin console's pages"
        values[f"{model._meta.app_label}/{model._meta.model_name}"] = str(obj.pk)
    return values


def fill(route: str, pattern: URLPattern, values: dict, admin_values: dict) -> str:
    """The URL of ``route`` with its parameters filled."""
    kwargs = dict(values.get(route, {}))
    if route.startswith("admin/") and "<" in route and not kwargs:
        app_label, model_name = route.split("/")[1:3]
        key = admin_values[f"{app_label}/{model_name}"]
        kwargs = {"object_id": key, "pk": key, "id": key}
    text = "/" + route
    import re

    text = re.sub(r"^/admin/\^", "/admin/", text)
    for name, value in kwargs.items():
        text = re.sub(r"\(\?P<" + name + r">[^)]*\)", str(value), text)
        text = re.sub(r"<(?:\w+:)?" + name + ">", str(value), text)
    text = text.replace("$", "")
    assert "<" not in text and "(?P" not in text, f"fill the parameters of {route}"
    return text


# POST bodies that pass the parsing in front of an API operation's access gate (others get none).
POST_BODIES = {"api/v1/policies/runs": {"period": 2026, "as_of": "2026-12-01"}}


def request_outcome(client, method: str, route: str, url: str) -> str:
    if method == "GET":
        return outcome(client.get(url))
    with transaction.atomic():
        if route in POST_BODIES:
            response = client.post(url, POST_BODIES[route], content_type="application/json")
        else:
            response = client.post(url, {})
        transaction.set_rollback(True)
    return outcome(response)


def test_every_route_of_the_resolver_has_a_row_and_every_row_a_route():
    """The quick half of the matrix: a new page fails here before any request is made."""
    routes = {route for route, _ in url_patterns()}
    assert sorted(routes - set(EXPECTED)) == []
    assert sorted(set(EXPECTED) - routes) == []
    assert POST_ONLY <= routes


def test_every_route_answers_every_role_as_designed(client, db, small_registry, monkeypatch):
    call_command("setup", "--demo", stdout=StringIO())
    monkeypatch.setattr("yuexiu.policies.services.enqueue_run", lambda run_id: None)  # no matching run
    values = path_values()
    admin_values = admin_object_values()
    routes = url_patterns()
    users = {role: User.objects.get(username=name) if name else None for role, name in ROLES.items()}
    observed: dict[str, dict[str, str]] = {}
    logging.disable(logging.ERROR)  # 403s and 404s are expected here by the thousand
    for route, pattern in routes:
        url = fill(route, pattern, values, admin_values)
        method = "POST" if route in POST_ONLY else "GET"
        row = {}
        for role, user in users.items():
            client.logout()
            if user is not None:
                client.force_login(user)
            row[role] = request_outcome(client, method, route, url)
        observed[route] = row
    logging.disable(logging.NOTSET)
    if _record():  # ROUTE_MATRIX_RECORD=1: print what every route answers, as rows of the table
        print("\n" + "\n".join(table_line(route, row) for route, row in observed.items()))
        return
    missing = [table_line(route, observed[route]) for route in observed if route not in EXPECTED]
    stale = sorted(set(EXPECTED) - set(observed))
    assert not missing, "routes without an expectation; judge each answer, then add the row to EXPECTED:\n" + "\n".join(
        missing
    )
    assert not stale, f"expectations for routes that no longer exist: {stale}"
    wrong = [
        f"{route} as {role}: {observed[route][role]}, expected {EXPECTED[route][role]}"
        for route in observed
        for role in ROLES
        if observed[route][role] != EXPECTED[route][role]
    ]
    assert not wrong, "\n".join(wrong)
    assert (len(routes), len(ROLES)) == MATRIX_SIZE


# Patterns whose view accepts only POST (a GET would measure the method gate, not the access gates).
POST_ONLY = {
    "accessibility/elder-mode/",
    "accounts/logout/",
    "workbench/guides/items/<slug:slug>/draft/",
    "workbench/guides/<int:pk>/<str:action>/",
    "workbench/guide-checks/run/",
    "cases/<str:number>/rating/",
    "cases/<str:number>/rating/review/",
    "ratings/r/<str:token>/review/",
    "workbench/ratings/hotline/",
    "workbench/ratings/visits/",
    "workbench/ratings/<int:pk>/<str:action>/",
    "cases/bundles/<str:number>/<str:action>/",
    "cases/<str:number>/<str:action>/",
    "workbench/supervision/observations/",
    "workbench/supervision/orders/<str:number>/<str:action>/",
    "policies/items/<slug:code>/apply/",
    "workbench/policies/items/<slug:code>/publish/",
    "workbench/policies/candidates/<int:pk>/<str:action>/",
    "api/v1/policies/runs",
    "admin/logout/",
}


def expectation_table(text: str) -> dict[str, dict[str, str]]:
    """Rows of ``route outcome×16`` (columns in the order of ``ROLES``; ``ok`` is 200, ``in`` the
    sign-in page, ``/`` the portal's root pattern)."""
    table: dict[str, dict[str, str]] = {}
    for line in text.strip().splitlines():
        if line.startswith("#"):
            continue
        route, *cells = line.split()
        assert len(cells) == len(ROLES), f"{route}: {len(cells)} outcomes for {len(ROLES)} roles"
        named = {"ok": "200", "in": "login"}
        table["" if route == "/" else route] = {
            role: named.get(cell, cell) for role, cell in zip(ROLES, cells, strict=True)
        }
    return table


# Who may reach what, as designed. Columns: anonymous, citizen, enterprise, window officer, approver,
# guide editor, guide reviewer, policy officer, 12345 hotline operator, supervisor, integrity
# supervisor, data officer, chief data officer, and the three administrators (system, security,
# audit). What to read in it: the administrators (last three columns) reach no page of cases,
# ratings, supervision or policies (403) and no case (404); a case is seen by its applicant, the
# departments and window that handle it, and the district's supervisors (404 for everyone else, so
# a guessed number tells nothing); the admin console is the system administrator's alone.
EXPECTED = expectation_table(
    """
# route                                                          anon  cit  ent  win appr edit  rev  pol  hot  sup  int  dat  cdo  SYS  SEC  AUD
/                                                                  ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
healthz                                                              ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
readyz                                                               ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
metrics                                                              ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
organisations/                                                     ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
organisations/<str:code>/                                          ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
accessibility/elder-mode/                                         302  302  302  302  302  302  302  302  302  302  302  302  302  302  302  302
accounts/login/                                                    ok  302  302  302  302  302  302  302  302  302  302  302  302  302  302  302
accounts/logout/                                                  302  302  302  302  302  302  302  302  302  302  302  302  302  302  302  302
accounts/register/                                                 ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
accounts/password-reset/                                           ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
accounts/password-reset/confirm/                                   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
accounts/unlock/                                                     ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
accounts/unlock/confirm/                                             ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
accounts/password/                                                   in   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
accounts/profile/                                                  in   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
accounts/two-factor/                                               in   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
workbench/                                                         in  403  403   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
workbench/audit/                                                   in  403  403  403  403  403  403  403  403  403  403  403  403  403  403   ok
workbench/audit/export.csv                                         in  403  403  403  403  403  403  403  403  403  403  403  403  403  403   ok
workbench/calendar/                                                in  403  403   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
workbench/administrators/                                          in  403  403  403  403  403  403  403  403  403  403  403  403  403   ok  403
services/                                                          ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
services/search/                                                   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
services/items/                                                    ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
services/items/<slug:slug>/                                        ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
services/items/<slug:slug>/versions/<int:number>/                  ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
services/bundles/<slug:slug>/                                      ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
services/export.<str:file_format>                                  ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
workbench/guides/                                                  in  403  403  403  403   ok   ok  403  403   ok  403  403  403  403  403  403
workbench/guides/items/<slug:slug>/draft/                          in  403  403  403  403  302  403  403  403  403  403  403  403  403  403  403
workbench/guides/<int:pk>/                                         in  403  403  403  403   ok   ok  403  403  404  403  403  403  403  403  403
workbench/guides/<int:pk>/<str:action>/                            in  403  403  403  403  302  403  403  403  404  403  403  403  403  403  403
workbench/guide-checks/                                            in  403  403  403  403   ok   ok  403  403   ok  403  403  403  403  403  403
workbench/guide-checks/run/                                        in  403  403  403  403  403  302  403  403  403  403  403  403  403  403  403
workbench/guide-checks/export.xlsx                                 in  403  403  403  403   ok   ok  403  403   ok  403  403  403  403  403  403
workbench/catalog/import/                                          in  403  403  403  403  403   ok  403  403  403  403  403  403  403  403  403
ratings/                                                           ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
ratings/r/<str:token>/                                             ok   ok   ok  403  403  403  403  403  403  403  403  403  403  403  403  403
ratings/r/<str:token>/review/                                       400  400  400  403  403  403  403  403  403  403  403  403  403  403  403  403
cases/<str:number>/rating/                                         in  404  302  302  302  404  404  404  404  302  302  404  404  404  404  404
cases/<str:number>/rating/review/                                    in  404  302  302  302  404  404  404  404  302  302  404  404  404  404  404
workbench/ratings/                                                 in  403  403   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok  403  403  403
workbench/ratings/export.xlsx                                      in  403  403   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok  403  403  403
workbench/ratings/self-check/                                      in  403  403  403  403  403  403  403  403   ok  403  403  403  403  403  403
workbench/ratings/hotline/                                         in  403  403  302  302  302  302  302  302  302  302  302  302  403  403  403
workbench/ratings/visits/                                          in  403  403  302  403  403  403  403  403  403  403  403  403  403  403  403
ratings/kiosk/                                                      403  403  403  403  403  403  403  403  403  403  403  403  403  403  403  403
ratings/tablet/                                                     403  403  403  403  403  403  403  403  403  403  403  403  403  403  403  403
workbench/ratings/devices/                                           in  403  403   ok  403  403  403  403  403  403  403  403  403  403  403  403
workbench/ratings/<int:pk>/<str:action>/                           in  403  403  302  302  302  302  302  302  302  302  302  302  403  403  403
services/items/<slug:slug>/apply/                                  in  403   ok  302  302  302  302  302  302  302  302  302  302  302  302  302
services/bundles/<slug:slug>/apply/                                in   ok   ok  403  403  403  403  403  403  403  403  403  403  403  403  403
cases/                                                             in   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
cases/bundles/<str:number>/                                        in   ok  404   ok  404  404  404  404  404   ok   ok  404  404  404  404  404
cases/bundles/<str:number>/<str:action>/                           in  403  404  302  404  404  404  404  404  403  403  404  404  404  404  404
cases/<str:number>/                                                in  404   ok   ok   ok  404  404  404  404   ok   ok  404  404  404  404  404
cases/<str:number>/files/<int:attachment_id>/                      in  404   ok   ok   ok  404  404  404  404   ok   ok  404  404  404  404  404
cases/<str:number>/<str:action>/                                   in  404  302  302  302  404  404  404  404  302  302  404  404  404  404  404
workbench/cases/                                                   in  403  403   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok  403  403  403
workbench/cases/register/<slug:slug>/                              in  403  403   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok  403  403  403
workbench/supervision/                                             in  403  403   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok  403  403  403
workbench/supervision/items/                                       in  403  403  403  403  403  403  403  403   ok  403  403  403  403  403  403
workbench/dashboard/                                               in  403  403   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok  403  403  403
workbench/supervision/observations/                                in  403  403  302  302  302  302  302  302  302  302  302  302  403  403  403
workbench/supervision/orders/<str:number>/<str:action>/            in  403  403  403  302  302  302  403  403  302  302  403  302  403  403  403
policies/                                                          ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
policies/items/<slug:code>/                                        ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
policies/items/<slug:code>/apply/                                  in  302  302  302  302  302  302  302  302  302  302  302  302  302  302  302
policies/publicity/<int:pk>/                                       ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
policies/mine/                                                     in  403   ok  403  403  403  403  403  403  403  403  403  403  403  403  403
policies/mine/<int:pk>/                                            in  404   ok  404  404  404  404  404  404  404  404  404  404  404  404  404
workbench/policies/                                                in  403  403  403  403  403  403   ok  403  403  403  403  403  403  403  403
workbench/policies/runs/<int:pk>/                                  in  403  403  403  403  403  403   ok  403  403  403  403  403  403  403  403
workbench/policies/items/<slug:code>/                              in  403  403  403  403  403  403   ok  403  403  403  403  403  403  403  403
workbench/policies/items/<slug:code>/publish/                      in  403  403  403  403  403  403  302  403  403  403  403  403  403  403  403
workbench/policies/candidates/<int:pk>/                            in  403  403  403  403  403  403   ok  403  403  403  403  403  403  403  403
workbench/policies/candidates/<int:pk>/<str:action>/               in  403  403  403  403  403  403  302  403  403  403  403  403  403  403  403
workbench/policies/rules/<slug:code>/                              in  403  403  403  403  403  403   ok  403  403  403  403  403  403  403  403
workbench/policies/validity/<slug:code>/                             in  403  403  403  403  403  403   ok  403  403  403  403  403  403  403  403
workbench/policies/registry/                                       in  403  403  403  403  403  403   ok  403  403  403   ok  403  403  403  403
admin/                                                             in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/login/                                                       ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok  302   ok   ok
admin/logout/                                                     302  302  302  302  302  302  302  302  302  302  302  302  302  302  302  302
admin/password_change/                                             in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/password_change/done/                                        in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/autocomplete/                                                in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/jsi18n/                                                      in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/r/<path:content_type_id>/<path:object_id>/                   in   in   in   in   in   in   in   in   in   in   in   in   in  404   in   in
admin/auth/group/                                                  in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/auth/group/add/                                              in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/auth/group/<path:object_id>/history/                         in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/auth/group/<path:object_id>/delete/                          in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/auth/group/<path:object_id>/change/                          in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/auth/group/<path:object_id>/                                 in   in   in   in   in   in   in   in   in   in   in   in   in  302   in   in
admin/otp_totp/totpdevice/<int:pk>/config/                         in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/otp_totp/totpdevice/<int:pk>/qrcode/                         in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/otp_totp/totpdevice/                                         in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/otp_totp/totpdevice/add/                                     in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/otp_totp/totpdevice/<path:object_id>/history/                in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/otp_totp/totpdevice/<path:object_id>/delete/                 in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/otp_totp/totpdevice/<path:object_id>/change/                 in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/otp_totp/totpdevice/<path:object_id>/                        in   in   in   in   in   in   in   in   in   in   in   in   in  302   in   in
admin/axes/accessattempt/                                          in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/axes/accessattempt/add/                                      in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/axes/accessattempt/<path:object_id>/history/                 in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/axes/accessattempt/<path:object_id>/delete/                  in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/axes/accessattempt/<path:object_id>/change/                  in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/axes/accessattempt/<path:object_id>/                         in   in   in   in   in   in   in   in   in   in   in   in   in  302   in   in
admin/axes/accesslog/                                              in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/axes/accesslog/add/                                          in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/axes/accesslog/<path:object_id>/history/                     in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/axes/accesslog/<path:object_id>/delete/                      in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/axes/accesslog/<path:object_id>/change/                      in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/axes/accesslog/<path:object_id>/                             in   in   in   in   in   in   in   in   in   in   in   in   in  302   in   in
admin/axes/accessfailurelog/                                       in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/axes/accessfailurelog/add/                                   in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/axes/accessfailurelog/<path:object_id>/history/              in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/axes/accessfailurelog/<path:object_id>/delete/               in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/axes/accessfailurelog/<path:object_id>/change/               in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/axes/accessfailurelog/<path:object_id>/                      in   in   in   in   in   in   in   in   in   in   in   in   in  302   in   in
admin/core/organisation/                                           in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/core/organisation/add/                                       in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/core/organisation/<path:object_id>/history/                  in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/core/organisation/<path:object_id>/delete/                   in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/core/organisation/<path:object_id>/change/                   in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/core/organisation/<path:object_id>/                          in   in   in   in   in   in   in   in   in   in   in   in   in  302   in   in
admin/core/holidayyear/                                            in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/core/holidayyear/add/                                        in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/core/holidayyear/<path:object_id>/history/                   in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/core/holidayyear/<path:object_id>/delete/                    in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/core/holidayyear/<path:object_id>/change/                    in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/core/holidayyear/<path:object_id>/                           in   in   in   in   in   in   in   in   in   in   in   in   in  302   in   in
admin/core/ruleparameter/                                          in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/core/ruleparameter/add/                                      in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/core/ruleparameter/<path:object_id>/history/                 in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/core/ruleparameter/<path:object_id>/delete/                  in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/core/ruleparameter/<path:object_id>/change/                  in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/core/ruleparameter/<path:object_id>/                         in   in   in   in   in   in   in   in   in   in   in   in   in  302   in   in
admin/core/user/<id>/password/                                     in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/core/user/                                                   in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/core/user/add/                                               in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/core/user/<path:object_id>/history/                          in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/core/user/<path:object_id>/delete/                           in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/core/user/<path:object_id>/change/                           in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/core/user/<path:object_id>/                                  in   in   in   in   in   in   in   in   in   in   in   in   in  302   in   in
admin/django_q/schedule/                                           in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/django_q/schedule/add/                                       in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/django_q/schedule/<path:object_id>/history/                  in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/django_q/schedule/<path:object_id>/delete/                   in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/django_q/schedule/<path:object_id>/change/                   in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/django_q/schedule/<path:object_id>/                          in   in   in   in   in   in   in   in   in   in   in   in   in  302   in   in
admin/django_q/success/                                            in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/django_q/success/add/                                        in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/django_q/success/<path:object_id>/history/                   in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/django_q/success/<path:object_id>/delete/                    in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/django_q/success/<path:object_id>/change/                    in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/django_q/success/<path:object_id>/                           in   in   in   in   in   in   in   in   in   in   in   in   in  302   in   in
admin/django_q/failure/                                            in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/django_q/failure/add/                                        in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/django_q/failure/<path:object_id>/history/                   in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/django_q/failure/<path:object_id>/delete/                    in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/django_q/failure/<path:object_id>/change/                    in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/django_q/failure/<path:object_id>/                           in   in   in   in   in   in   in   in   in   in   in   in   in  302   in   in
admin/django_q/ormq/                                               in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/django_q/ormq/add/                                           in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/django_q/ormq/<path:object_id>/history/                      in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/django_q/ormq/<path:object_id>/delete/                       in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/django_q/ormq/<path:object_id>/change/                       in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/django_q/ormq/<path:object_id>/                              in   in   in   in   in   in   in   in   in   in   in   in   in  302   in   in
admin/catalog/serviceitem/                                         in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/catalog/serviceitem/add/                                     in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/catalog/serviceitem/<path:object_id>/history/                in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/catalog/serviceitem/<path:object_id>/delete/                 in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/catalog/serviceitem/<path:object_id>/change/                 in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/catalog/serviceitem/<path:object_id>/                        in   in   in   in   in   in   in   in   in   in   in   in   in  302   in   in
admin/catalog/servicebundle/                                       in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/catalog/servicebundle/add/                                   in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/catalog/servicebundle/<path:object_id>/history/              in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/catalog/servicebundle/<path:object_id>/delete/               in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/catalog/servicebundle/<path:object_id>/change/               in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/catalog/servicebundle/<path:object_id>/                      in   in   in   in   in   in   in   in   in   in   in   in   in  302   in   in
admin/catalog/sharedevidence/                                      in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/catalog/sharedevidence/add/                                  in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/catalog/sharedevidence/<path:object_id>/history/             in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/catalog/sharedevidence/<path:object_id>/delete/              in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/catalog/sharedevidence/<path:object_id>/change/              in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/catalog/sharedevidence/<path:object_id>/                     in   in   in   in   in   in   in   in   in   in   in   in   in  302   in   in
admin/catalog/guideversion/                                        in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/catalog/guideversion/add/                                    in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/catalog/guideversion/<path:object_id>/history/               in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/catalog/guideversion/<path:object_id>/delete/                in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/catalog/guideversion/<path:object_id>/change/                in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/catalog/guideversion/<path:object_id>/                       in   in   in   in   in   in   in   in   in   in   in   in   in  302   in   in
admin/catalog/guidecheckrun/                                       in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/catalog/guidecheckrun/add/                                   in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/catalog/guidecheckrun/<path:object_id>/history/              in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/catalog/guidecheckrun/<path:object_id>/delete/               in   in   in   in   in   in   in   in   in   in   in   in   in  403   in   in
admin/catalog/guidecheckrun/<path:object_id>/change/               in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/catalog/guidecheckrun/<path:object_id>/                      in   in   in   in   in   in   in   in   in   in   in   in   in  302   in   in
admin/^(?P<app_label>auth|otp_totp|axes|core|django_q|catalog)/$   in   in   in   in   in   in   in   in   in   in   in   in   in   ok   in   in
admin/(?P<url>.*)$                                                 in   in   in   in   in   in   in   in   in   in   in   in   in  404   in   in
api/v1/openapi.json                                                ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
api/v1/docs                                                        ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
api/v1/organisations                                               ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
api/v1/organisations/<code>                                        ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
api/v1/workdays/add                                               422  422  422  422  422  422  422  422  422  422  422  422  422  422  422  422
api/v1/workdays/count                                             422  422  422  422  422  422  422  422  422  422  422  422  422  422  422  422
api/v1/workdays/check                                             422  422  422  422  422  422  422  422  422  422  422  422  422  422  422  422
api/v1/me                                                         401   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
api/v1/audit-events                                               401  403  403  403  403  403  403  403  403  403  403  403  403  403  403   ok
api/v1/catalog/items                                               ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
api/v1/catalog/items/<slug>                                        ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
api/v1/catalog/items/<slug>/versions/<number>                      ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
api/v1/catalog/bundles                                             ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
api/v1/catalog/bundles/<slug>                                      ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
api/v1/catalog/export                                              ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
api/v1/cases                                                      401   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
api/v1/cases/<number>                                             401  404   ok   ok   ok  404  404  404  404   ok   ok  404  404  404  404  404
api/v1/policies/items                                              ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
api/v1/policies/items/<code>                                       ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
api/v1/policies/figures                                            ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
api/v1/policies/items/<code>/precheck                             401  403   ok  403  403  403  403  403  403  403  403  403  403  403  403  403
api/v1/policies/mine                                              401   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
api/v1/policies/runs                                              401  403  403  403  403  403  403  202  403  403  403  403  403  403  403  403
api/v1/policies/runs/<run_id>                                     401  403  403  403  403  403  403   ok  403  403  403  403  403  403  403  403
api/v1/                                                           404  404  404  404  404  404  404  404  404  404  404  404  404  404  404  404
"""  # noqa: E501
)
MATRIX_SIZE = (227, 16)
