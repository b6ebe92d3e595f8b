"""Caching what anonymous visitors read, without ever serving a stale published change or anything
personal.

Freshness: every cached entry is keyed on the *public revision* (``core.models.PublicRevision``), a
random token replaced in the same transaction as any save or delete of a watched model (the service
catalogue, bundles, the organisation tree: ``watch_public_models``). Reading it is one primary-key
query, so each web process, whatever its cache (``CACHE_URL``: memory of the process, the database
or Redis), sees a published guide at once: the old entries are simply never asked for again and age
out (``PUBLIC_PAGE_CACHE_SECONDS``, and the cache's ``MAX_ENTRIES``). Writes that bypass ``save()``
(``QuerySet.update``, ``bulk_create``) on a watched model must call ``bump_public_revision()``.

Privacy: a page is served from the cache only to a GET without an account, without a session cookie
and without pending messages; only a 200 answer whose view set no cookie and no header other than
Content-Type is stored. The CSRF token of the page's forms (the elder-mode switch, the bundle's
pre-check) is taken out before storing and the requester's own token put in when serving, so no
visitor ever receives another visitor's token.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, models
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone

from yuexiu.core.context_processors import is_elder_mode

PUBLIC = "public"
INITIAL_TOKEN = "initial"
# What stands for the CSRF token in a stored page: a NUL can be neither in a request (refused by
# ControlCharacterMiddleware) nor in the database (PostgreSQL refuses it), so no content can fake it.
CSRF_PLACEHOLDER = "\x00csrf-token\x00"
CSRF_INPUT = re.compile(r'(<input type="hidden" name="csrfmiddlewaretoken" value=")[^"]*(")')

View = TypeVar("View", bound=Callable[..., HttpResponse])
logger = logging.getLogger(__name__)


def current_public_revision(name: str = PUBLIC) -> str:
    """The token of the current revision ``name`` (``"public"``: the catalogue and organisations;
    ``"ratings"``: what the ratings statistics count); ``"initial"`` before the first change.

    One primary-key query, or none in a process that listens for the revision's changes
    (``PUBLIC_REVISION_LISTEN`` on PostgreSQL, see ``RevisionListener``) while its listener is
    connected and the caller is not inside a transaction (which must see its own change)."""
    if settings.PUBLIC_REVISION_LISTEN and connection.vendor == "postgresql" and not connection.in_atomic_block:
        tokens = LISTENER.tokens()
        if tokens is not None:
            return tokens.get(name, INITIAL_TOKEN)
    return _read_revision(name)


def _read_revision(name: str) -> str:
    from yuexiu.core.models import PublicRevision

    token = PublicRevision.objects.filter(pk=name).values_list("token", flat=True).first()
    return token or INITIAL_TOKEN


class RevisionListener:
    """The public revision as PostgreSQL announces it (``LISTEN``/``NOTIFY``): a daemon thread of each
    process keeps its own connection, reads the token when it connects and again whenever a change is
    notified (a change's ``NOTIFY`` is delivered when its transaction commits), and every
    ``HEARTBEAT_SECONDS`` (which also finds a dead connection). While it is not connected ``token()``
    is ``None`` and callers read the database themselves: a lost listener costs speed, never
    freshness. Started lazily, once per process (after gunicorn's fork). Follows every revision row."""

    CHANNEL = "yuexiu_public_revision"
    HEARTBEAT_SECONDS = 5.0
    RETRY_SECONDS = 1.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._tokens: dict[str, str] | None = None
        self._thread: threading.Thread | None = None

    def tokens(self) -> dict[str, str] | None:
        """Every revision's token by name, or ``None`` while not connected."""
        if self._pid != os.getpid():
            self._start()
        return self._tokens

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._tokens = None
            self._thread = threading.Thread(target=self._run, args=(self._pid,), name="public-revision", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop listening and close the connection (within ``HEARTBEAT_SECONDS``); for tests and
        orderly shutdowns: a process that exits needs no call."""
        thread, self._pid = self._thread, None
        if thread is not None:
            thread.join(timeout)

    def _run(self, pid: int) -> None:
        import psycopg

        while self._pid == pid:
            wrapper = connections.create_connection(DEFAULT_DB_ALIAS)
            try:
                wrapper.ensure_connection()
                raw = wrapper.connection
                raw.autocommit = True
                raw.execute(f"LISTEN {self.CHANNEL}")
                while self._pid == pid:
                    self._tokens = _read_revisions_raw(raw)
                    for _ in raw.notifies(timeout=self.HEARTBEAT_SECONDS, stop_after=1):
                        pass  # a change was committed: read the token again
            except (DatabaseError, psycopg.Error):  # fall back to reading per request, then reconnect
                logger.warning("公开内容版本监听中断，%s 秒后重连", self.RETRY_SECONDS, exc_info=True)
                self._tokens = None
                time.sleep(self.RETRY_SECONDS)
            finally:
                self._tokens = None
                wrapper.close()


def _read_revisions_raw(raw: Any) -> dict[str, str]:
    from yuexiu.core.models import PublicRevision

    return dict(raw.execute(f'SELECT name, token FROM "{PublicRevision._meta.db_table}"').fetchall())


LISTENER = RevisionListener()


def bump_public_revision(name: str = PUBLIC) -> None:
    """Give revision ``name`` a new token, in the caller's transaction (so a rolled-back change
    leaves the revision as it was)."""
    from yuexiu.core.models import PublicRevision

    token = uuid.uuid4().hex
    if not PublicRevision.objects.filter(pk=name).update(token=token):
        _, created = PublicRevision.objects.get_or_create(pk=name, defaults={"token": token})
        if not created:  # another transaction made the row first
            PublicRevision.objects.filter(pk=name).update(token=token)
    if connection.vendor == "postgresql":  # delivered to every listening process at commit
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, '')", [RevisionListener.CHANNEL])


def watch_public_models(*watched: type[models.Model], revision: str = PUBLIC) -> None:
    """Bump revision ``revision`` whenever one of ``watched`` (or one of their many-to-many links) is
    saved or deleted. Called by each app's ``ready()`` for the models its public pages show."""

    def bump(**_signal_arguments: Any) -> None:
        bump_public_revision(revision)

    for model in watched:
        uid = f"{revision}-{model._meta.label}"
        post_save.connect(bump, sender=model, weak=False, dispatch_uid=f"save-{uid}")
        post_delete.connect(bump, sender=model, weak=False, dispatch_uid=f"delete-{uid}")
        for field in model._meta.local_many_to_many:
            through = field.remote_field.through
            m2m_changed.connect(bump, sender=through, weak=False, dispatch_uid=f"m2m-{revision}-{through._meta.label}")


def cached_public_value(name: str, parts: str, compute: Callable[[], Any]) -> Any:
    """``compute()`` for the current public revision, computed once per revision and cache. ``name``
    names the kind of value, ``parts`` what else it depends on (a request's filters). The value must
    be public: the same for every visitor."""
    key = _key(name, current_public_revision(), parts)
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, settings.PUBLIC_PAGE_CACHE_SECONDS)
    return value


def anonymous_visit(request: HttpRequest) -> bool:
    """True for a GET that may be answered from the cache: no account, no session, no pending
    message (a page read by a signed-in account shows their name and menu)."""
    if request.method != "GET":
        return False
    if settings.SESSION_COOKIE_NAME in request.COOKIES or CookieStorage.cookie_name in request.COOKIES:
        return False
    user = getattr(request, "user", None)
    return user is not None and not user.is_authenticated


def cache_public_page(view: View) -> View:
    """Serve ``view``'s page from the cache to anonymous visitors (``anonymous_visit``), keyed on the
    public revision, the full path, elder mode, htmx and the day, with the visitor's own CSRF token."""
    return _cached_page(view, revision=current_public_revision, timeout=lambda: settings.PUBLIC_PAGE_CACHE_SECONDS)


def cache_page_for_anonymous(revision: str, timeout: Callable[[], int]) -> Callable[[View], View]:
    """Like ``cache_public_page`` for a page computed from data that also changes without a watched
    save (statistics over cases finished as time passes): keyed on revision ``revision``, so a watched
    change (a rating) shows at once, and kept at most ``timeout()`` seconds for the rest."""

    def decorator(view: View) -> View:
        return _cached_page(view, revision=lambda: current_public_revision(revision), timeout=timeout)

    return decorator


def _cached_page(view: View, *, revision: Callable[[], str], timeout: Callable[[], int]) -> View:
    name = f"{view.__module__}.{view.__qualname__}"

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not anonymous_visit(request):
            return view(request, *args, **kwargs)
        # the day too: a dated rule (a bundle's promised flow) takes effect at midnight, Beijing time
        variant = "|".join(
            [
                request.get_full_path(),
                str(is_elder_mode(request)),
                str(bool(request.headers.get("HX-Request"))),
                timezone.localdate().isoformat(),
            ]
        )
        key = _key(name, revision(), variant)
        stored = cache.get(key)
        if stored is not None:
            content_type, body = stored
            if CSRF_PLACEHOLDER in body:
                body = body.replace(CSRF_PLACEHOLDER, get_token(request))
            return HttpResponse(body, content_type=content_type)
        response = view(request, *args, **kwargs)
        if _storable(response):
            body = CSRF_INPUT.sub(rf"\g<1>{CSRF_PLACEHOLDER}\g<2>", response.content.decode(response.charset))
            cache.set(key, (response["Content-Type"], body), timeout())
        return response

    return wrapped  # type: ignore[return-value]  # same signature as ``view``


def _storable(response: HttpResponse) -> bool:
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and {name.lower() for name in response.headers} == {"content-type"}
    )


def _key(name: str, revision: str, parts: str) -> str:
    digest = hashlib.sha256(parts.encode("utf-8")).hexdigest()[:32]
    return f"public:{name}:{revision}:{digest}"
