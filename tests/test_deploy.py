"""One production start: ``yuexiu prod-check`` and what deploy/ gives the operator (gunicorn, systemd,
nginx, the documented environment)."""

from __future__ import annotations

import base64
import io
import math
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

import yuexiu.settings as platform_settings
from yuexiu.core.uploads import largest_request_bytes

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def prod_check() -> tuple[int, list[str]]:
    out = io.StringIO()
    try:
        call_command("prod-check", stdout=out)
        status = 0
    except SystemExit as exit:
        status = int(exit.code or 0)
    return status, out.getvalue().splitlines()


@pytest.fixture
def production(monkeypatch, settings, tmp_path):
    """Settings and environment as an operator's production host has them; static files collected."""
    key = secrets.token_urlsafe(64)
    data_keys = f"1:{base64.b64encode(secrets.token_bytes(16)).decode()}"
    digest_key = base64.b64encode(secrets.token_bytes(32)).decode()
    for name, value in {
        "SECRET_KEY": key,
        "DATA_ENCRYPTION_KEYS": data_keys,
        "DATA_DIGEST_KEY": digest_key,
        "DEBUG": False,
        "ALLOWED_HOSTS": ["zwfw.example.gov.cn"],
        "DATABASE_URL": "postgres://yuexiu@10.0.0.10:5432/yuexiu",
        "AUDIT_RETENTION_DAYS": 365,
        "STORAGE_BACKEND": "local",
    }.items():
        monkeypatch.setattr(platform_settings, name, value)
    monkeypatch.setenv("YUEXIU_MODE", "production")
    monkeypatch.setenv("SECRET_KEY", key)
    monkeypatch.setenv("DATA_ENCRYPTION_KEYS", data_keys)
    monkeypatch.setenv("DATA_DIGEST_KEY", digest_key)
    monkeypatch.setenv("DATABASE_URL", "postgres://yuexiu@10.0.0.10:5432/yuexiu")
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--no-input", stdout=io.StringIO())


def test_prod_check_passes_every_check_in_a_production_environment(db, production, settings):
    status, lines = prod_check()
    assert status == 0, lines
    assert [line.split("：")[0] for line in lines] == [
        "✓ 运行模式",
        "✓ 配置安全",
        "✓ 密钥与凭据",
        "✓ 数据库连接",
        "✓ 数据库迁移",
        "✓ 文件存储（办件材料）",
        "✓ 文件存储（数据快照）",
        "✓ 静态文件",
        "生产环境检查通过",
    ]
    assert lines[2] == "✓ 密钥与凭据：SECRET_KEY、DATABASE_URL、DATA_ENCRYPTION_KEYS、DATA_DIGEST_KEY 已由环境变量提供"
    assert lines[4] == "✓ 数据库迁移：所有迁移均已执行"
    assert lines[5] == f"✓ 文件存储（办件材料）：本地目录 {settings.MEDIA_ROOT} 可写入、可读回"
    assert os.environ["SECRET_KEY"] not in "\n".join(lines)


def test_prod_check_checks_the_object_storage(db, production, object_storage, monkeypatch):
    monkeypatch.setattr(platform_settings, "STORAGE_BACKEND", "s3")
    for name in ("S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"):
        monkeypatch.setattr(platform_settings, name, "set")
        monkeypatch.setenv(name, "set")
    status, lines = prod_check()
    assert status == 0, lines
    assert f"✓ 文件存储（办件材料）：对象存储桶 {object_storage}/media 可写入、可读回" in lines
    assert f"✓ 文件存储（数据快照）：对象存储桶 {object_storage}/snapshots 可写入、可读回" in lines


def test_prod_check_prints_every_failure_in_chinese_and_exits_1(db, settings, monkeypatch, tmp_path):
    monkeypatch.delenv("YUEXIU_MODE", raising=False)
    monkeypatch.setattr(platform_settings, "DATABASE_URL", "sqlite:///var/yuexiu.sqlite3")
    monkeypatch.setattr(platform_settings, "ALLOWED_HOSTS", ["*"])
    monkeypatch.delenv("SECRET_KEY", raising=False)
    settings.STATIC_ROOT = tmp_path / "nothing-collected"
    real_open = os.open

    def refused(path, *args, **kwargs):
        if str(path).startswith(str(settings.MEDIA_ROOT)):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("django.core.files.storage.filesystem.os.open", refused)
    status, lines = prod_check()
    assert status == 1
    assert lines[0] == "✗ 运行模式：YUEXIU_MODE 不是 production（以下检查按生产要求进行）"
    assert lines[1] == (
        "✗ 配置安全：ALLOWED_HOSTS 必须列出正式域名，不能为空或 *；生产模式必须使用 PostgreSQL（DATABASE_URL=postgres://…）"
    )
    assert lines[2].startswith("✗ 密钥与凭据：环境变量未提供：SECRET_KEY")
    assert lines[3].startswith("✓ 数据库连接：") and lines[4].startswith("✓ 数据库迁移")
    assert lines[5].startswith(f"✗ 文件存储（办件材料）：本地目录 {settings.MEDIA_ROOT}：文件存储暂时无法写入")
    assert lines[6].startswith("✓ 文件存储（数据快照）")
    assert lines[7].startswith("✗ 静态文件：")
    assert lines[8] == "生产环境检查未通过：5 项失败（运行模式、配置安全、密钥与凭据、文件存储（办件材料）、静态文件）"


def test_prod_check_reports_settings_that_refuse_to_load_as_failed_checks(tmp_path):
    env = {
        **os.environ,
        "YUEXIU_MODE": "production",
        "DEBUG": "1",
        "SECRET_KEY": "short",
        "ALLOWED_HOSTS": "zwfw.example.gov.cn",
        "DATABASE_URL": "postgres://yuexiu@127.0.0.1:9/yuexiu",
        "YUEXIU_VAR_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "yuexiu.cli", "prod-check"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == [
        "✗ 配置安全：SECRET_KEY 必须由环境变量提供，长度不少于 50 个字符且不能使用内置示例密钥",
        "✗ 配置安全：生产模式不允许 DEBUG=1",
        "✗ 配置安全：DATA_ENCRYPTION_KEYS 必须由环境变量提供，格式为 版本号:Base64 编码的 16 字节 SM4 密钥，"
        "多个以逗号分隔（未配置任何数据加密密钥）",
        "✗ 配置安全：DATA_DIGEST_KEY 必须由环境变量提供，为 Base64 编码的不少于 32 字节的随机密钥"
        "（摘要密钥应不少于 32 字节，实为 0 字节）",
        "生产环境检查未通过：配置安全有 4 项问题，平台拒绝启动",
    ]
    assert "Traceback" not in done.stderr


def test_the_gunicorn_configuration_loads_with_the_application(tmp_path):
    env = {**os.environ, "YUEXIU_VAR_DIR": str(tmp_path), "WEB_CONCURRENCY": "2", "GUNICORN_BIND": "127.0.0.1:18101"}
    env.pop("DATABASE_URL", None)
    gunicorn = Path(sys.executable).with_name("gunicorn")
    done = subprocess.run(
        [str(gunicorn), "--check-config", "--print-config", "-c", str(DEPLOY / "gunicorn.conf.py"), "yuexiu.wsgi"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    config = dict(re.findall(r"^(\w+)\s+= (.*)$", done.stdout, re.MULTILINE))
    assert config["workers"] == "2"
    assert config["bind"] == "['127.0.0.1:18101']"
    assert config["preload_app"] == "False"
    assert config["max_requests"] == "2000" and config["max_requests_jitter"] == "200"
    assert config["accesslog"] == "-"
    assert config["logger_class"] == "yuexiu.core.gunicorn_logging.JsonAccessLogger"


def test_the_workers_default_to_twice_the_cores_plus_one(monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    namespace: dict[str, object] = {}
    exec(compile((DEPLOY / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), namespace)  # noqa: S102
    assert namespace["workers"] == 2 * os.cpu_count() + 1
    assert namespace["timeout"] == 60 and namespace["preload_app"] is False


def test_the_gunicorn_access_line_is_json_that_a_hostile_path_cannot_break():
    import json

    from yuexiu.core.gunicorn_logging import access_record

    line = access_record(
        status="200 OK",
        method="GET",
        path='/services/"}\n{"level":"ERROR',
        request_id="nginx-0001abcd",
        seconds=0.0123,
        peer="127.0.0.1",
        size=512,
    )
    assert "\n" not in line
    record = json.loads(line)
    assert record["status"] == 200 and record["duration_ms"] == 12.3 and record["request_id"] == "nginx-0001abcd"
    assert record["path"] == '/services/"}\n{"level":"ERROR'


def test_nginx_accepts_the_largest_request_the_platform_answers_itself():
    site = (DEPLOY / "nginx" / "yuexiu.conf").read_text(encoding="utf-8")
    size = re.search(r"^\s*client_max_body_size (\d+)m;", site, re.MULTILINE)
    assert size is not None
    assert int(size.group(1)) == math.ceil(largest_request_bytes() / 2**20) == 303
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site
    assert "proxy_set_header X-Request-ID $request_id;" in site
    assert "alias /opt/yuexiu/var/static/;" in site
    # headers the application sends are not added to proxied answers
    proxied = site[site.index("location / {") :]
    assert "add_header" not in proxied


def test_every_environment_variable_the_platform_reads_is_documented():
    read: set[str] = set()
    pattern = re.compile(
        r"""(?:env_(?:str|int|bool|list)|_int|os\.environ(?:\.get)?|getenv)[(\[]\s*"([A-Z][A-Z0-9_]+)\""""
    )
    for path in [*(ROOT / "src").rglob("*.py"), DEPLOY / "gunicorn.conf.py"]:
        read |= set(pattern.findall(path.read_text(encoding="utf-8")))
    read -= {"DJANGO_SETTINGS_MODULE"}
    documented = set(
        re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (DEPLOY / "env.example").read_text(encoding="utf-8"), re.M)
    )
    assert sorted(read - documented) == []
    assert {"SECRET_KEY", "STORAGE_BACKEND", "S3_BUCKET", "METRICS_TOKEN", "WEB_CONCURRENCY"} <= documented


def test_each_role_has_a_systemd_unit():
    web = (DEPLOY / "systemd" / "yuexiu-web.service").read_text(encoding="utf-8")
    worker = (DEPLOY / "systemd" / "yuexiu-worker.service").read_text(encoding="utf-8")
    assert "ExecStartPre=/opt/yuexiu/.venv/bin/yuexiu prod-check" in web
    assert "ExecStart=/opt/yuexiu/.venv/bin/gunicorn -c /opt/yuexiu/deploy/gunicorn.conf.py yuexiu.wsgi" in web
    assert "ExecStart=/opt/yuexiu/.venv/bin/yuexiu qcluster" in worker
    assert "WORKER_RUNS_SCHEDULER" in worker
    assert all("KillMode=mixed" in unit for unit in (web, worker))
