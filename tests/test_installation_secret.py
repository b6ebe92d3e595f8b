"""The embedded mode's SECRET_KEY is a random secret of the installation, never a published constant
(issue 13: a rating link signed with the key printed in the settings could be forged for any case
number). Production still takes SECRET_KEY from the environment only."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import signing

from tests.ratings.test_ratings import closed_case  # noqa: F401  # shared fixture
from tests.test_security import PRODUCTION_ENV
from yuexiu import settings as settings_module
from yuexiu.core.errors import NotFound
from yuexiu.ratings import services

# The key the embedded mode used before, as printed in the settings module of every copy of the source.
PUBLISHED_KEY = "embedded-only-not-secret-yuexiu-demo-key-0123456789abcdefghij"


def start(var_dir: Path, **extra_env: str) -> subprocess.CompletedProcess[str]:
    """Start the platform's settings in a fresh process (an installation's start) and print its key."""
    env = {key: value for key, value in os.environ.items() if key not in {"SECRET_KEY", "YUEXIU_MODE"}}
    env.update({"YUEXIU_VAR_DIR": str(var_dir), **extra_env})
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)",
        ],
        capture_output=True,
        text=True,
        env={**env, "DJANGO_SETTINGS_MODULE": "yuexiu.settings"},
        timeout=120,
    )


@pytest.mark.django_db
def test_a_rating_link_signed_with_the_published_key_is_refused(closed_case):  # noqa: F811
    assert django_settings.SECRET_KEY != PUBLISHED_KEY
    forged = signing.dumps({"case": closed_case.number, "via": "qr"}, key=PUBLISHED_KEY, salt=services.TOKEN_SALT)
    with pytest.raises(NotFound, match="评价链接无效或已过期"):
        services.case_from_token(forged)
    assert services.case_from_token(services.rating_token(closed_case)) == closed_case


def test_two_installations_have_different_secrets_and_each_survives_a_restart(tmp_path):
    first = start(tmp_path / "one")
    assert first.returncode == 0, first.stderr
    again = start(tmp_path / "one")  # the same installation restarted
    other = start(tmp_path / "two")
    key = first.stdout.strip()
    assert len(key) >= 50 and key != PUBLISHED_KEY
    assert again.stdout.strip() == key
    assert other.stdout.strip() not in {key, PUBLISHED_KEY}
    secret_file = tmp_path / "one" / "secret_key"
    assert secret_file.read_text().strip() == key
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    # the data keys (商用密码) are made beside it, also 0600; no temporary file is left
    assert sorted(path.name for path in (tmp_path / "one").iterdir()) == [
        "data_digest_key",
        "data_encryption_keys",
        "secret_key",
    ]
    for name in ("data_digest_key", "data_encryption_keys"):
        assert stat.S_IMODE((tmp_path / "one" / name).stat().st_mode) == 0o600
    assert (tmp_path / "one" / "data_encryption_keys").read_text() != (
        tmp_path / "two" / "data_encryption_keys"
    ).read_text()


def test_the_secret_is_made_once_and_a_damaged_file_is_refused(tmp_path):
    key = settings_module.installation_secret_key(tmp_path)
    assert settings_module.installation_secret_key(tmp_path) == key
    (tmp_path / "secret_key").write_text(PUBLISHED_KEY)
    with pytest.raises(Exception, match="密钥文件 .* 内容无效"):
        settings_module.installation_secret_key(tmp_path)


def test_the_embedded_mode_refuses_the_published_key_from_the_environment(tmp_path):
    result = start(tmp_path, SECRET_KEY=PUBLISHED_KEY)
    assert result.returncode != 0
    assert "不能使用源代码中公开的示例密钥" in result.stderr


def test_production_takes_the_secret_from_the_environment_only(tmp_path):
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "SECRET_KEY"}
    refused = start(tmp_path, **env)
    assert refused.returncode != 0
    assert "生产模式配置不安全，拒绝启动" in refused.stderr and "SECRET_KEY" in refused.stderr
    assert not (tmp_path / "secret_key").exists()  # no key made for production
    published = start(tmp_path, **env, SECRET_KEY=PUBLISHED_KEY)
    assert published.returncode != 0 and "SECRET_KEY" in published.stderr
    accepted = start(tmp_path, **PRODUCTION_ENV)
    assert accepted.returncode == 0, accepted.stderr
    assert accepted.stdout.strip() == PRODUCTION_ENV["SECRET_KEY"]
