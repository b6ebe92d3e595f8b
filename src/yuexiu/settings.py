"""Settings for the Yuexiu platform, read from environment variables only.

Two modes, chosen by ``YUEXIU_MODE``:

- ``embedded`` (default, what ``make run`` uses): SQLite under var/, safe local defaults, optional
  two-factor for staff so that demo logins stay simple. ``SECRET_KEY`` is a random secret of this
  installation, made on first start in ``var/secret_key`` (0600) and reused afterwards, unless the
  environment gives one.
- ``production``: every secret must come from the environment, PostgreSQL is required, HTTPS-only
  cookies and HSTS are on and TOTP is required for staff. Unsafe values make start-up fail with
  ``ImproperlyConfigured`` (GB/T 22239-2019 level 3, application security baseline).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from yuexiu.core import smcrypto

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = Path(os.environ.get("YUEXIU_PROJECT_DIR", BASE_DIR.parent.parent)).resolve()
VAR_DIR = Path(os.environ.get("YUEXIU_VAR_DIR", PROJECT_DIR / "var")).resolve()


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as error:
        raise ImproperlyConfigured(f"环境变量 {name} 必须是整数，当前为 {value!r}") from error


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


MODE = env_str("YUEXIU_MODE", "embedded")
if MODE not in {"embedded", "production"}:
    raise ImproperlyConfigured("YUEXIU_MODE 只能是 embedded 或 production")
PRODUCTION = MODE == "production"

# The key the embedded mode used until issue 13. It is published with the source, so anything signed
# with it (a rating link for a guessed case number) could be forged by anyone: never used again, and
# refused in production.
PUBLISHED_SECRET_KEYS = frozenset({"embedded-only-not-secret-yuexiu-demo-key-0123456789abcdefghij"})
SECRET_KEY_FILE_NAME = "secret_key"


def installation_secret(
    var_dir: Path, name: str, *, make: Callable[[], str], usable: Callable[[str], bool], remedy: str
) -> str:
    """A random secret of this installation (the embedded mode's ``SECRET_KEY`` and data keys): made
    by ``make()`` on the first start in ``var_dir/name`` with mode 0600 and read from it afterwards,
    so that what depends on it survives a restart and no two installations share it.

    Two processes starting together (the web server and the worker) get the same secret: the file is
    written under a temporary name and linked into place, which fails if another process was first.
    Raises ``ImproperlyConfigured`` (naming the file and ``remedy``) if the file exists but
    ``usable(content)`` is false."""
    path = var_dir / name
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        temporary = var_dir / f".{name}.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(make() + "\n")
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass  # another process made it first: use theirs
        finally:
            temporary.unlink(missing_ok=True)
    value = path.read_text(encoding="ascii").strip()
    if not usable(value):
        raise ImproperlyConfigured(f"密钥文件 {path} 内容无效：{remedy}")
    return value


def installation_secret_key(var_dir: Path) -> str:
    """The embedded mode's ``SECRET_KEY``: ``secrets.token_urlsafe(64)`` (86 characters) in
    ``var_dir/secret_key`` (``installation_secret``)."""
    return installation_secret(
        var_dir,
        SECRET_KEY_FILE_NAME,
        make=lambda: secrets.token_urlsafe(64),
        usable=lambda key: len(key) >= 50 and key not in PUBLISHED_SECRET_KEYS,
        remedy="请删除该文件后重新启动（将生成新的密钥，已发出的评价链接随之失效）",
    )


SECRET_KEY = env_str("SECRET_KEY", "") if PRODUCTION else (env_str("SECRET_KEY") or installation_secret_key(VAR_DIR))
if not PRODUCTION and SECRET_KEY in PUBLISHED_SECRET_KEYS:
    raise ImproperlyConfigured("SECRET_KEY 不能使用源代码中公开的示例密钥")
# 商用密码 (GB/T 39786-2021): 身份证号, phone numbers and bank accounts are sealed with SM4 under
# DATA_ENCRYPTION_KEYS ("1:<base64 16 bytes>,2:<base64>"), new values under DATA_ENCRYPTION_KEY_VERSION
# (0: the highest configured); equality lookups use HMAC-SM3 under DATA_DIGEST_KEY (core.crypto).
# Production takes them from the environment only; the embedded mode makes its own in var/.
DATA_ENCRYPTION_KEYS_FILE_NAME = "data_encryption_keys"
DATA_DIGEST_KEY_FILE_NAME = "data_digest_key"
_DATA_KEY_REMEDY = "该文件保存本机个人信息的加密密钥，删除或改动后已加密的数据无法读取：请从备份恢复该文件"


def _parses(parse: Callable[[str], object]) -> Callable[[str], bool]:
    def usable(text: str) -> bool:
        try:
            parse(text)
        except smcrypto.KeyFormatError:
            return False
        return True

    return usable


if PRODUCTION:
    DATA_ENCRYPTION_KEYS = env_str("DATA_ENCRYPTION_KEYS")
    DATA_DIGEST_KEY = env_str("DATA_DIGEST_KEY")
else:
    DATA_ENCRYPTION_KEYS = env_str("DATA_ENCRYPTION_KEYS") or installation_secret(
        VAR_DIR,
        DATA_ENCRYPTION_KEYS_FILE_NAME,
        make=smcrypto.new_encryption_key_text,
        usable=_parses(smcrypto.parse_encryption_keys),
        remedy=_DATA_KEY_REMEDY,
    )
    DATA_DIGEST_KEY = env_str("DATA_DIGEST_KEY") or installation_secret(
        VAR_DIR,
        DATA_DIGEST_KEY_FILE_NAME,
        make=smcrypto.new_digest_key_text,
        usable=_parses(smcrypto.parse_digest_key),
        remedy=_DATA_KEY_REMEDY,
    )
DATA_ENCRYPTION_KEY_VERSION = env_int("DATA_ENCRYPTION_KEY_VERSION", 0)
# An audit entry not yet in the hash chain this long after it was written is reported by
# `yuexiu audit verify` (the linker runs after each commit and every minute).
AUDIT_CHAIN_LINK_GRACE_MINUTES = env_int("AUDIT_CHAIN_LINK_GRACE_MINUTES", 10)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
CSRF_FAILURE_VIEW = "yuexiu.core.views.csrf_failure"  # Chinese, and JSON under /api/

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'yuexiu.sqlite3'}")
# Persistent connections: a web process keeps its database connection for DB_CONN_MAX_AGE seconds
# instead of opening one per request (on PostgreSQL that is half the cost of a small page, see
# docs/benchmarks.md). 0 (close after each request) in the embedded mode, 60 in production unless
# the environment says otherwise; the health check tests a kept connection before a request uses it,
# so a database restart costs one reconnection, not an error.
DB_CONN_MAX_AGE = env_int("DB_CONN_MAX_AGE", 60 if PRODUCTION else 0)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=DB_CONN_MAX_AGE, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL and IMMEDIATE transactions let the web server and the worker share one SQLite file
    # without "database is locked" errors on concurrent writes.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
# Tests on SQLite use a file in WAL mode, as `make run` does (an in-memory database cannot let two
# threads write in turn, which the concurrency tests need).
_SQLITE_TEST_NAME = str(VAR_DIR / "test.sqlite3") if DATABASES["default"]["ENGINE"].endswith("sqlite3") else ""
DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME", "") or _SQLITE_TEST_NAME or None}

AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 365)


def cache_settings(url: str) -> dict[str, Any]:
    """The ``CACHES["default"]`` entry for ``CACHE_URL``:

    - ``locmem://`` (the default): memory of each process, at most ``?max_entries=`` entries (1000).
      Enough for several processes, because every cached public page is keyed on the revision of the
      public content read from the database (core.public_cache).
    - ``db://table_name``: Django's database cache, shared by every process (create the table once
      with ``yuexiu createcachetable``).
    - ``redis://host:port/db`` (or ``rediss://``): Django's Redis cache, shared; needs the ``redis``
      package installed beside the platform.
    - ``dummy://``: no cache at all.

    Raises ``ImproperlyConfigured`` for any other scheme."""
    from urllib.parse import parse_qs, urlsplit

    parts = urlsplit(url)
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    max_entries = int(options.get("max_entries", "1000"))
    if parts.scheme == "locmem":
        return {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": parts.netloc or "yuexiu",
            "OPTIONS": {"MAX_ENTRIES": max_entries},
        }
    if parts.scheme == "db":
        table = parts.netloc or parts.path.strip("/") or "yuexiu_cache"
        return {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": table,
            "OPTIONS": {"MAX_ENTRIES": max_entries},
        }
    if parts.scheme in {"redis", "rediss"}:
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url.split("?")[0]}
    if parts.scheme == "dummy":
        return {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    raise ImproperlyConfigured(
        f"CACHE_URL 不支持 {parts.scheme or url!r}：可用 locmem://、db://表名、redis://主机:端口/库号、dummy://"
    )


CACHES = {"default": cache_settings(env_str("CACHE_URL", "locmem://"))}
# How long a cached public page may stay unused in the cache (seconds). Freshness does not depend on
# it: a page is keyed on the public content's revision, so a published change is seen at once.
PUBLIC_PAGE_CACHE_SECONDS = env_int("PUBLIC_PAGE_CACHE_SECONDS", 600)
# Each web process learns a change of the public content from PostgreSQL's NOTIFY instead of asking
# on every request (core.public_cache.RevisionListener); on by default in production.
PUBLIC_REVISION_LISTEN = env_bool("PUBLIC_REVISION_LISTEN", PRODUCTION)
# The public ratings statistics are recounted after every rating (core.public_cache, revision
# "ratings") and at least this often (seconds): a case finished meanwhile shows within a minute.
RATINGS_STATISTICS_CACHE_SECONDS = env_int("RATINGS_STATISTICS_CACHE_SECONDS", 60)
# A bare view at /bench/bare/ for bench/load_bench.py (the baseline of the load table); never set
# in normal running.
BENCH_BARE_VIEW = env_bool("BENCH_BARE_VIEW", False)


def package_rule_value(key: str) -> Any:
    """The value of ``key`` in force today in the package's rule table (core/data/rules.yaml), read
    without the database, for checks made at start-up. The retention job reads the database's row."""
    import yaml

    rows = yaml.safe_load((BASE_DIR / "core" / "data" / "rules.yaml").read_text(encoding="utf-8"))
    rows = [row for row in rows if row["key"] == key]
    if not rows:
        raise ImproperlyConfigured(f"规则参数表缺少 {key}")
    in_force = [row for row in rows if row["effective_from"] <= date.today()] or rows
    return max(in_force, key=lambda row: row["effective_from"])["value"]


SESSION_IDLE_TIMEOUT_MINUTES = env_int("SESSION_IDLE_TIMEOUT_MINUTES", 30)
TWO_FACTOR_REQUIRED_FOR_STAFF = PRODUCTION or env_bool("TWO_FACTOR_REQUIRED_FOR_STAFF", False)


# Files: media (case materials) and Parquet snapshots, in a local folder (the embedded default) or in
# S3-compatible object storage (django-storages), one bucket with the prefixes media/ and snapshots/.
STORAGE_BACKEND = env_str("STORAGE_BACKEND", "local")
S3_ENDPOINT_URL = env_str("S3_ENDPOINT_URL", "")
S3_BUCKET = env_str("S3_BUCKET", "")
S3_ACCESS_KEY_ID = env_str("S3_ACCESS_KEY_ID", "")
S3_SECRET_ACCESS_KEY = env_str("S3_SECRET_ACCESS_KEY", "")
S3_REGION = env_str("S3_REGION", "")
S3_ADDRESSING_STYLE = env_str("S3_ADDRESSING_STYLE", "path")


def storage_setting_problems() -> list[str]:
    """What is missing or wrong in the storage variables (Chinese), in either mode."""
    if STORAGE_BACKEND not in {"local", "s3"}:
        return [f"STORAGE_BACKEND 只能是 local 或 s3，当前为 {STORAGE_BACKEND!r}"]
    if STORAGE_BACKEND == "s3":
        missing = [
            name
            for name, value in (
                ("S3_BUCKET", S3_BUCKET),
                ("S3_ACCESS_KEY_ID", S3_ACCESS_KEY_ID),
                ("S3_SECRET_ACCESS_KEY", S3_SECRET_ACCESS_KEY),
            )
            if not value
        ]
        if missing:
            return [f"STORAGE_BACKEND=s3 时必须设置 {'、'.join(missing)}"]
    return []


def s3_storage(
    *,
    location: str,
    bucket: str,
    endpoint_url: str,
    access_key_id: str,
    secret_access_key: str,
    region: str = "",
    addressing_style: str = "path",
) -> dict[str, Any]:
    """A ``STORAGES`` entry for django-storages' S3 backend under the key prefix ``location``:
    private objects (no ACL, signed URLs only), never overwriting a stored object, bounded timeouts
    and three attempts per request (``standard`` retry mode)."""
    from botocore.config import Config

    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url or None,
            "access_key": access_key_id,
            "secret_key": secret_access_key,
            "region_name": region or None,
            "location": location,
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
            "addressing_style": addressing_style or None,
            "client_config": Config(
                connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"}
            ),
        },
    }


def _data_key_problems() -> list[str]:
    """What is wrong with the data keys (GB/T 39786-2021: SM4 keys and the HMAC-SM3 key from the
    environment), as Chinese sentences; empty when they are usable."""
    problems = []
    keys: dict[int, bytes] = {}
    try:
        keys = smcrypto.parse_encryption_keys(DATA_ENCRYPTION_KEYS)
    except smcrypto.KeyFormatError as error:
        problems.append(
            "DATA_ENCRYPTION_KEYS 必须由环境变量提供，格式为 版本号:Base64 编码的 16 字节 SM4 密钥，"
            f"多个以逗号分隔（{error}）"
        )
    if keys and DATA_ENCRYPTION_KEY_VERSION and DATA_ENCRYPTION_KEY_VERSION not in keys:
        problems.append(f"DATA_ENCRYPTION_KEY_VERSION={DATA_ENCRYPTION_KEY_VERSION} 不在 DATA_ENCRYPTION_KEYS 中")
    try:
        digest_key = smcrypto.parse_digest_key(DATA_DIGEST_KEY)
    except smcrypto.KeyFormatError as error:
        problems.append(f"DATA_DIGEST_KEY 必须由环境变量提供，为 Base64 编码的不少于 32 字节的随机密钥（{error}）")
    else:
        if any(digest_key[: len(key)] == key for key in keys.values()):
            problems.append("DATA_DIGEST_KEY 不能与数据加密密钥相同")
    return problems


def unsafe_production_settings() -> list[str]:
    """Every reason (Chinese) why these settings may not serve in production; empty when they may.
    Start-up in production refuses them all at once; ``yuexiu prod-check`` prints them."""
    problems = []
    if len(SECRET_KEY) < 50 or SECRET_KEY in PUBLISHED_SECRET_KEYS or len(set(SECRET_KEY)) < 5:
        problems.append("SECRET_KEY 必须由环境变量提供，长度不少于 50 个字符且不能使用内置示例密钥")
    if DEBUG:
        problems.append("生产模式不允许 DEBUG=1")
    if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
        problems.append("ALLOWED_HOSTS 必须列出正式域名，不能为空或 *")
    problems.extend(_data_key_problems())
    if not DATABASE_URL.startswith(("postgres://", "postgresql://")):
        problems.append("生产模式必须使用 PostgreSQL（DATABASE_URL=postgres://…）")
    # 《网络安全法》第二十一条: network logs kept at least six months; six months are at most 184 days
    # (rule audit.log_retention_min_days), the same minimum the retention job keeps.
    minimum = int(package_rule_value("audit.log_retention_min_days"))
    if AUDIT_RETENTION_DAYS < minimum:
        problems.append(
            f"AUDIT_RETENTION_DAYS 不得少于 {minimum} 天（《网络安全法》第二十一条：网络日志留存不少于六个月，"
            "六个月最长 184 天）"
        )
    problems.extend(storage_setting_problems())
    return problems


def _refuse_unsafe_production_settings() -> None:
    problems = unsafe_production_settings()
    if problems:
        raise ImproperlyConfigured("生产模式配置不安全，拒绝启动：" + "；".join(problems))


if PRODUCTION:
    _refuse_unsafe_production_settings()
elif storage_setting_problems():
    raise ImproperlyConfigured("文件存储配置有误：" + "；".join(storage_setting_problems()))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "yuexiu.core",  # before django_q: its `qcluster` command (clean stop on SIGTERM) replaces django-q2's
    "django_q",
    "ninja",  # serves Swagger UI for /api/v1/docs from local static files (no CDN)
    "yuexiu.catalog",
    "yuexiu.cases",
    "yuexiu.supervision",
    "yuexiu.ratings",
    "yuexiu.policies",
]

MIDDLEWARE = [
    "yuexiu.core.observability.ObservabilityMiddleware",  # request id, metrics, log line; /healthz /readyz /metrics
    "yuexiu.core.middleware.DatabaseUnavailableMiddleware",  # next: sees every other layer's errors
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "yuexiu.core.middleware.DatabaseUnavailableMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "yuexiu.core.middleware.NoStoreForPersonalPagesMiddleware",
    "yuexiu.core.middleware.ControlCharacterMiddleware",
    "yuexiu.core.middleware.RequestContextMiddleware",
    "yuexiu.core.middleware.StaffTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "yuexiu.core.middleware.MethodNotAllowedMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "yuexiu.urls"
WSGI_APPLICATION = "yuexiu.wsgi.application"
AUTH_USER_MODEL = "core.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "yuexiu.core.context_processors.platform",
            ],
        },
    },
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "yuexiu.core.security.ChineseMinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "yuexiu.core.security.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
]

# Lockout (django-axes, GB/T 22239-2019 登录失败处理): 5 failures from one address stop logins to that
# account from that address for 30 minutes; 30 failures from all addresses together stop them from
# everywhere (core.security.AccountAndAddressLockout). Keyed on account and address together, so
# that neither a stranger can lock an owner out by typing wrong passwords from elsewhere, nor one
# person's mistakes lock out a whole office behind one NAT address. The owner lifts either lockout
# with a code sent to the registered phone (/accounts/unlock/). Rotating user agents or cookies
# cannot bypass the lock (axes.W006's concern), so that warning is silenced.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_ACCOUNT_FAILURE_LIMIT = env_int("AXES_ACCOUNT_FAILURE_LIMIT", 30)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "yuexiu.core.security.AccountAndAddressLockout"
# Failures count under the folded name that finds the account (full-width or upper-case spellings of
# one name share one count).
AXES_USERNAME_CALLABLE = "yuexiu.core.security.axes_username"
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "core/locked_out.html"
AXES_VERBOSE = False

# Idle session timeout: the session expires after SESSION_IDLE_TIMEOUT_MINUTES without a request.
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"

# A window tablet or kiosk bound by staff (ratings.RatingDevice) keeps its random token in this cookie:
# HttpOnly, Secure in production, renewed on every use; 400 days is the longest a browser keeps one.
RATING_DEVICE_COOKIE_NAME = "__Host-rating-device" if PRODUCTION else "rating_device"
RATING_DEVICE_COOKIE_AGE = 400 * 24 * 60 * 60

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # Inline styles stay allowed for Django admin and ECharts; scripts are same-origin only.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [PROJECT_DIR / "var" / "vendor"] if (PROJECT_DIR / "var" / "vendor").exists() else []
STORAGES: dict[str, dict[str, Any]] = {
    # MEDIA_ROOT, read when the storage is first used (tests move it per test)
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # the matching runs' folders (var/policy-runs/<run>/) are the snapshots' local home: nothing is copied
    "snapshots": {"BACKEND": "yuexiu.core.files.VarFolderStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
if STORAGE_BACKEND == "s3":
    _s3 = {
        "bucket": S3_BUCKET,
        "endpoint_url": S3_ENDPOINT_URL,
        "access_key_id": S3_ACCESS_KEY_ID,
        "secret_access_key": S3_SECRET_ACCESS_KEY,
        "region": S3_REGION,
        "addressing_style": S3_ADDRESSING_STYLE,
    }
    STORAGES["default"] = s3_storage(location="media", **_s3)
    STORAGES["snapshots"] = s3_storage(location="snapshots", **_s3)
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
MEDIA_ROOT = VAR_DIR / "media"
# Application materials: per-file limit and files per submission (the files are never served from
# MEDIA_URL; they are read through a permission-checked view).
CASE_UPLOAD_MAX_BYTES = env_int("CASE_UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
CASE_UPLOAD_MAX_FILES = env_int("CASE_UPLOAD_MAX_FILES", 30)
# Imports of tables: the service catalogue (a few thousand rows) and the enterprise registry.
CATALOGUE_IMPORT_MAX_BYTES = env_int("CATALOGUE_IMPORT_MAX_BYTES", 10 * 1024 * 1024)
REGISTRY_IMPORT_MAX_BYTES = env_int("REGISTRY_IMPORT_MAX_BYTES", 20 * 1024 * 1024)
# Uploads are checked for size before they are read (core.uploads.read_upload). While a request
# arrives, a file's bytes beyond the largest limit above are not kept (core.uploads
# .SizeLimitedUploadHandler): a huge upload costs neither memory nor more than that much disk, and
# the page still says how large it was. A request up to FILE_UPLOAD_MAX_MEMORY_SIZE is held in
# memory, larger ones stream to temporary files; form fields other than files may total
# DATA_UPLOAD_MAX_MEMORY_SIZE (the largest form text, a 200,000-character rule file, is about 600 KB
# in UTF-8). The reverse proxy bounds the whole request (deploy: client_max_body_size).
UPLOAD_MAX_BYTES = max(CASE_UPLOAD_MAX_BYTES, CATALOGUE_IMPORT_MAX_BYTES, REGISTRY_IMPORT_MAX_BYTES)
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "yuexiu.core.uploads.SizeLimitedUploadHandler",
]
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # 2.5 MB, Django's default, stated
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = 100  # CASE_UPLOAD_MAX_FILES is refused in Chinese, with the form kept
# The address printed in rating links sent by SMS and in QR codes made outside a request.
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

NINJA_PAGINATION_MAX_LIMIT = 100

# Background worker (django-q2) uses the same database as its queue. Any number of job workers
# (`yuexiu qcluster`) may share it (docs/adr/0008-production-deployment.md, "Jobs"): the broker hands each task
# to one worker; a task not acknowledged WORKER_RETRY_SECONDS after it was handed out (its worker was
# killed) is handed out again, so a worker stops any task still running after WORKER_TASK_TIMEOUT
# seconds, and the retry must be longer than the timeout. Long jobs (matching runs) also hold a lease:
# a heartbeat at least every few seconds; a re-delivered job takes over a lease silent for
# JOB_LEASE_SECONDS, which must be shorter than the timeout. WORKER_RUNS_SCHEDULER=0 keeps a worker
# from creating the periodic tasks (a deployment can give that to one role; every worker running it is
# safe too: the schedule rows are locked while due tasks are created).
WORKER_TASK_TIMEOUT = env_int("WORKER_TASK_TIMEOUT", 300)
WORKER_RETRY_SECONDS = env_int("WORKER_RETRY_SECONDS", 600)
WORKER_RUNS_SCHEDULER = env_bool("WORKER_RUNS_SCHEDULER", True)
JOB_LEASE_SECONDS = env_int("JOB_LEASE_SECONDS", 60)
if not 0 < JOB_LEASE_SECONDS < WORKER_TASK_TIMEOUT < WORKER_RETRY_SECONDS:
    raise ImproperlyConfigured(
        "后台任务时限配置有误：须 0 < JOB_LEASE_SECONDS < WORKER_TASK_TIMEOUT < WORKER_RETRY_SECONDS"
        f"（当前为 {JOB_LEASE_SECONDS}、{WORKER_TASK_TIMEOUT}、{WORKER_RETRY_SECONDS} 秒），"
        "否则被中断的任务会在原任务结束前再次执行"
    )
Q_CLUSTER = {
    "name": "yuexiu",
    "orm": "default",
    "workers": env_int("WORKER_PROCESSES", 1),
    "timeout": WORKER_TASK_TIMEOUT,
    "retry": WORKER_RETRY_SECONDS,
    "max_attempts": 3,
    "catch_up": False,
    "poll": 2,
    "scheduler": WORKER_RUNS_SCHEDULER,
    "label": "后台任务",
}

# Logs: plain text in the embedded mode; in production (or LOG_FORMAT=json) one JSON object per line on
# standard output, with one line per request (core.observability).
LOG_FORMAT = env_str("LOG_FORMAT", "json" if PRODUCTION else "text")
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured("LOG_FORMAT 只能是 text 或 json")
_JSON_LOGS = LOG_FORMAT == "json"
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "yuexiu.core.observability.JsonFormatter"}},
    "handlers": {
        "console": (
            {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}
            if _JSON_LOGS
            else {"class": "logging.StreamHandler"}
        )
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
    "loggers": {"yuexiu.request": {"level": "INFO" if _JSON_LOGS else "WARNING"}},
}

# Monitoring (core.observability): /metrics for these addresses or networks, or with the bearer token;
# /readyz fails when the oldest waiting background task is older than this.
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", ["127.0.0.1", "::1"])
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
READY_MAX_QUEUE_AGE_SECONDS = env_int("READY_MAX_QUEUE_AGE_SECONDS", 900)
