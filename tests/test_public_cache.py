"""What anonymous visitors read is cached on the public revision: a published change is seen at once,
nothing personal is ever stored or served from the cache, and each page's queries are counted exactly
(cold cache and warm cache). Persistent connections and the cache backend are configurable."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.helpers import food_licence_uploads
from yuexiu.cases import services as case_services
from yuexiu.catalog import services as catalog_services
from yuexiu.catalog.models import ServiceItem
from yuexiu.core import public_cache
from yuexiu.core.models import Organisation, PublicRevision
from yuexiu.settings import cache_settings

CSRF_VALUE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def count_queries(client: Client, url: str) -> tuple[int, HttpResponse]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries), response


@pytest.fixture
def food_case(catalogue):
    food = ServiceItem.objects.get(seed_key="food-business-licence-new")
    case = case_services.submit_application(
        item=food,
        applicant=catalogue["enterprise_demo"],
        idempotency_key="cache-1",
        form_data={},
        uploads=food_licence_uploads(),
    )
    return case_services.accept_case(case=case, actor=catalogue["window_centre"])


# ---- queries per request ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "cold", "warm"),
    [
        ("/", 4, 1),  # revision; district, subdistricts, departments
        ("/services/", 8, 1),
        ("/services/items/shi-pin-jing-ying-xu-ke-xin-ban/", 8, 1),
        ("/api/v1/catalog/items?q=食品许可", 7, 1),  # cold: the search index is built too
    ],
)
def test_a_public_page_costs_one_query_once_cached(client, catalogue, url, cold, warm):
    assert count_queries(client, url)[0] == cold
    client.cookies.clear()  # another visitor
    assert count_queries(client, url)[0] == warm  # the public revision only


def test_the_ratings_statistics_are_recounted_after_a_rating_or_a_minute(client, catalogue, food_case):
    assert settings.RATINGS_STATISTICS_CACHE_SECONDS == 60
    assert count_queries(client, "/ratings/")[0] == 9  # revision; twice: ratings, rectifications, cases, visits
    client.cookies.clear()
    assert count_queries(client, "/ratings/")[0] == 1  # the ratings revision
    public_cache.bump_public_revision("ratings")  # as every save of a rating does
    client.cookies.clear()
    assert count_queries(client, "/ratings/")[0] == 9
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        client.cookies.clear()
        assert count_queries(client, "/ratings/")[0] == 9  # cases finished meanwhile are counted


def test_the_cases_api_reads_the_calendar_once_for_the_whole_page(client, catalogue, food_case):
    client.force_login(catalogue["enterprise_demo"])
    # session, user, count, cases, pauses, extensions, holiday year 2026 and its days, and the
    # session's renewal (savepoint, update, release): the same for one case or a hundred
    for _ in range(2):
        queries, response = count_queries(client, "/api/v1/cases")
        assert queries == 11
        assert [entry["number"] for entry in response.json()["items"]] == [food_case.number]
        assert response.json()["items"][0]["statutory_clock"]["left_working_days"] == 20


def test_the_cases_api_query_count_does_not_grow_with_the_cases(client, catalogue, food_case):
    food = ServiceItem.objects.get(seed_key="food-business-licence-new")
    for number in range(2, 6):
        case = case_services.submit_application(
            item=food,
            applicant=catalogue["enterprise_demo"],
            idempotency_key=f"cache-{number}",
            form_data={},
            uploads=food_licence_uploads(),
            confirm_repeat=True,
        )
        case_services.accept_case(case=case, actor=catalogue["window_centre"])
    client.force_login(catalogue["enterprise_demo"])
    queries, response = count_queries(client, "/api/v1/cases")
    assert response.json()["count"] == 5
    assert queries == 11


# ---- freshness ---------------------------------------------------------------------------------------


def test_a_published_guide_shows_at_once_on_a_warm_cache(client, catalogue, food):
    url = f"/services/items/{food.slug}/"
    assert "10 个工作日" not in client.get(url).content.decode()
    assert count_queries(client, url)[0] == 1  # served from the cache
    editor, reviewer = catalogue["editor_scj"], catalogue["reviewer_zsj"]
    draft = catalog_services.create_draft(item=food, editor=editor)
    content = {**draft.content, "promised_limit": {"value": 10, "unit": "working_days"}}
    catalog_services.save_draft(version=draft, editor=editor, content=content, change_summary="承诺 10 个工作日")
    catalog_services.submit_draft(version=draft, editor=editor)
    catalog_services.publish_version(version=draft, reviewer=reviewer)
    html = client.get(url).content.decode()
    assert "10 个工作日" in html
    assert "第 2 版" in html or "/versions/2/" in html


def test_a_renamed_department_shows_at_once_on_the_portal_and_in_search(client, catalogue):
    assert "广州市越秀区市场监督管理局" in client.get("/").content.decode()
    search = "/api/v1/catalog/items?q=食品经营许可"
    assert client.get(search).json()["items"][0]["organisation_name"] == "广州市越秀区市场监督管理局"
    department = Organisation.objects.get(name="广州市越秀区市场监督管理局")
    department.name = "区市场监管局（更名）"
    department.save()
    assert "区市场监管局（更名）" in client.get("/").content.decode()
    assert client.get(search).json()["items"][0]["organisation_name"] == "区市场监管局（更名）"


def test_every_save_and_delete_of_a_watched_model_gives_a_new_revision(catalogue, food):
    first = public_cache.current_public_revision()
    food.search_terms = "测试"
    food.save(update_fields=["search_terms"])  # even without updated_at
    second = public_cache.current_public_revision()
    food.intake_organisations.clear()  # a many-to-many link
    third = public_cache.current_public_revision()
    assert len({first, second, third}) == 3
    assert PublicRevision.objects.get(pk="public").token == third


def test_a_rolled_back_change_keeps_the_revision(catalogue, food):
    from django.db import transaction

    before = public_cache.current_public_revision()
    with pytest.raises(RuntimeError), transaction.atomic():
        food.name = "回滚的名称"
        food.save()
        raise RuntimeError("rolled back")
    assert public_cache.current_public_revision() == before


def test_the_listener_is_only_asked_on_postgresql_outside_transactions(settings, reference_data):
    """The embedded mode and every transaction read the revision from the database; on PostgreSQL in
    production a connected listener answers (tests run inside a transaction, hence a read here too)."""
    settings.PUBLIC_REVISION_LISTEN = True
    public_cache.bump_public_revision()
    token = PublicRevision.objects.get(pk="public").token
    with CaptureQueriesContext(connection) as queries:
        assert public_cache.current_public_revision() == token
    assert len(queries) == 1


# ---- nothing personal --------------------------------------------------------------------------------


def test_each_visitor_gets_their_own_csrf_token_in_a_cached_page(catalogue):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first_token = CSRF_VALUE.search(first.get("/services/").content.decode()).group(1)
    second_html = second.get("/services/").content.decode()
    assert count_queries(Client(), "/services/")[0] == 1  # the second visitor was served from the cache
    second_token = CSRF_VALUE.search(second_html).group(1)
    assert first_token != second_token
    assert public_cache.CSRF_PLACEHOLDER not in second_html
    # the token of the cached page works with the second visitor's own cookie
    response = second.post("/accessibility/elder-mode/", {"csrfmiddlewaretoken": second_token, "next": "/services/"})
    assert response.status_code == 302
    elder = second.get("/services/").content.decode()
    assert 'class="elder-mode"' in elder  # a different variant of the page, not the cached one


def test_a_signed_in_page_is_neither_served_from_nor_stored_in_the_cache(client, catalogue):
    assert count_queries(client, "/services/")[0] == 8
    client.force_login(catalogue["citizen_demo"])
    queries, response = count_queries(client, "/services/")
    assert queries > 1
    assert catalogue["citizen_demo"].display_name in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    stranger = Client()
    html = stranger.get("/services/").content.decode()
    assert catalogue["citizen_demo"].display_name not in html
    assert "我的办件" not in html


def test_a_visitor_with_a_session_or_a_pending_message_is_not_served_from_the_cache(client, catalogue):
    client.get("/services/")
    client.cookies[settings.SESSION_COOKIE_NAME] = "no-such-session"
    assert count_queries(client, "/services/")[0] > 1
    client.cookies.clear()
    client.cookies["messages"] = "x"
    assert count_queries(client, "/services/")[0] > 1


def test_an_answer_with_a_cookie_or_its_own_headers_is_never_stored():
    plain = HttpResponse("ok")
    with_cookie = HttpResponse("ok")
    with_cookie.set_cookie("rating_device", "secret")
    with_header = HttpResponse("ok")
    with_header["Content-Disposition"] = "attachment"
    assert public_cache._storable(plain)
    assert not public_cache._storable(with_cookie)
    assert not public_cache._storable(with_header)
    assert not public_cache._storable(HttpResponse("gone", status=404))


def test_a_missing_item_is_not_cached(client, catalogue):
    assert client.get("/services/items/no-such-item/").status_code == 404
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/services/items/no-such-item/").status_code == 404
    assert len(queries) > 1


# ---- configuration ---------------------------------------------------------------------------------


def test_cache_url_chooses_the_backend_and_the_memory_cache_is_bounded():
    assert cache_settings("locmem://") == {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "yuexiu",
        "OPTIONS": {"MAX_ENTRIES": 1000},
    }
    assert cache_settings("locmem://?max_entries=200")["OPTIONS"] == {"MAX_ENTRIES": 200}
    assert cache_settings("db://yuexiu_cache") == {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "yuexiu_cache",
        "OPTIONS": {"MAX_ENTRIES": 1000},
    }
    assert cache_settings("redis://127.0.0.1:6379/1") == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/1",
    }
    assert cache_settings("dummy://") == {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    with pytest.raises(ImproperlyConfigured, match="CACHE_URL 不支持 'memcached'"):
        cache_settings("memcached://127.0.0.1:11211")
    assert settings.CACHES["default"]["OPTIONS"]["MAX_ENTRIES"] == 1000  # the default of the tests


def test_connections_are_health_checked_and_kept_as_configured():
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] == settings.DB_CONN_MAX_AGE


@pytest.mark.parametrize(
    ("extra", "expected"),
    [({}, "60 True True"), ({"DB_CONN_MAX_AGE": "0", "PUBLIC_REVISION_LISTEN": "0"}, "0 True False")],
)
def test_production_keeps_connections_60_seconds_and_listens_unless_told_otherwise(extra, expected):
    from tests.test_security import PRODUCTION_ENV

    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "DB_CONN_MAX_AGE"}}
    env.update({**PRODUCTION_ENV, **extra, "DJANGO_SETTINGS_MODULE": "yuexiu.settings"})
    code = (
        "from django.conf import settings; d = settings.DATABASES['default']; "
        "print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'], settings.PUBLIC_REVISION_LISTEN)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert result.stdout.strip() == expected, result.stderr


def test_the_embedded_mode_closes_connections_after_each_request():
    env = {key: value for key, value in os.environ.items() if key not in {"YUEXIU_MODE", "DB_CONN_MAX_AGE"}}
    env["DJANGO_SETTINGS_MODULE"] = "yuexiu.settings"
    code = "from django.conf import settings; print(settings.DATABASES['default']['CONN_MAX_AGE'])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert result.stdout.strip() == "0", result.stderr


def test_the_bare_bench_view_is_not_routed_in_normal_running(client, reference_data):
    assert settings.BENCH_BARE_VIEW is False
    assert client.get("/bench/bare/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_listening_process_learns_each_committed_change_without_asking(settings):
    """On PostgreSQL (production) a listener thread follows the revision by LISTEN/NOTIFY; on SQLite
    (embedded) nothing listens and the revision is read per request."""
    import time

    settings.PUBLIC_REVISION_LISTEN = True
    listener = public_cache.RevisionListener()

    def wait_for(expected: str) -> str | None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and (listener.tokens() or {}).get("public") != expected:
            time.sleep(0.05)
        return (listener.tokens() or {}).get("public")

    public_cache.bump_public_revision()  # committed at once (autocommit)
    first = PublicRevision.objects.get(pk="public").token
    if connection.vendor != "postgresql":
        with CaptureQueriesContext(connection) as queries:
            assert public_cache.current_public_revision() == first
        assert len(queries) == 1
        assert public_cache.LISTENER._thread is None  # never started
        return
    try:
        assert wait_for(first) == first
        public_cache.bump_public_revision()
        second = PublicRevision.objects.get(pk="public").token
        assert second != first
        assert wait_for(second) == second
    finally:
        listener.stop()
    assert not listener._thread.is_alive()


def test_a_cached_page_is_made_again_on_the_next_day_when_dated_rules_may_change(client, catalogue):
    assert count_queries(client, "/services/")[0] == 8
    client.cookies.clear()
    assert count_queries(client, "/services/")[0] == 1
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        client.cookies.clear()
        assert count_queries(client, "/services/")[0] == 8


def test_a_changed_rule_gives_a_new_revision(reference_data):
    from yuexiu.core.models import RuleParameter

    before = public_cache.current_public_revision()
    rule = RuleParameter.objects.first()
    rule.save()
    assert public_cache.current_public_revision() != before
