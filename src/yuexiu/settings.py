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
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

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


def installation_secret_key(var_dir: Path) -> str:
    """The embedded mode's secret: random (``secrets.token_urlsafe(64)``, 86 characters), made on this
    installation's first start in ``var_dir/secret_key`` with mode 0600 and read from it afterwards,
    so that signed links and sessions survive a restart and no two installations share a key.

    Two processes starting together (the web server and the worker) get the same key: the file is
    written under a temporary name and linked into place, which fails if another process was first.
    Raises ``ImproperlyConfigured`` if the file exists but holds no usable key."""
    path = var_dir / SECRET_KEY_FILE_NAME
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        temporary = var_dir / f".{SECRET_KEY_FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(secrets.token_urlsafe(64) + "\n")
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass  # another process made it first: use theirs
        finally:
            temporary.unlink(missing_ok=True)
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 50 or key in PUBLISHED_SECRET_KEYS:
        raise ImproperlyConfigured(
            f"密钥文件 {path} 内容无效：请删除该文件后重新启动（将生成新的密钥，已发出的评价链接随之失效）"
        )
    return key


SECRET_KEY = env_str("SECRET_KEY", "") if PRODUCTION else (env_str("SECRET_KEY") or installation_secret_key(VAR_DIR))
if not PRODUCTION and SECRET_KEY in PUBLISHED_SECRET_KEYS:
    raise ImproperlyConfigured("SECRET_KEY 不能使用源代码中公开的示例密钥")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
CSRF_FAILURE_VIEW = "yuexiu.core.views.csrf_failure"  # Chinese, and JSON under /api/

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'yuexiu.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
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


def _refuse_unsafe_production_settings() -> None:
    problems = []
    if len(SECRET_KEY) < 50 or SECRET_KEY in PUBLISHED_SECRET_KEYS or len(set(SECRET_KEY)) < 5:
        problems.append("SECRET_KEY 必须由环境变量提供，长度不少于 50 个字符且不能使用内置示例密钥")
    if DEBUG:
        problems.append("生产模式不允许 DEBUG=1")
    if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
        problems.append("ALLOWED_HOSTS 必须列出正式域名，不能为空或 *")
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
    if problems:
        raise ImproperlyConfigured("生产模式配置不安全，拒绝启动：" + "；".join(problems))


if PRODUCTION:
    _refuse_unsafe_production_settings()

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
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
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
# (`yuexiu qcluster`) may share it (docs/adr/0008-production-mode.md, "jobs"): the broker hands each task
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
