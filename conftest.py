"""Fixtures shared by the unit, API and browser tests: Yuexiu's reference data and a named cast.

The cast: 陈窗口 (window_hongqiao) works at 洪桥街道, 黄窗口 (window_beijing) at 北京街道, 周监督
(supervisor_demo) supervises the whole district, 罗审计 (auditadmin) is the audit administrator,
张晓越 (citizen_demo) is a citizen.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from yuexiu.core import calendar, demo, rules, services
from yuexiu.core.models import User

# Tests never read the wall clock: unless a test travels elsewhere itself, it runs on Wednesday
# 2026-12-02 10:00 in Beijing, late in a year whose successor has no holiday notice yet. Browser
# journeys (e2e/) are left on the machine's clock, which CI moves with libfaketime (see .ci/run).
TEST_NOW = datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def frozen_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    # The production-mode test (tests/production/) drives real processes that read the real clock
    # (the staff's authenticator codes too): it stays on the machine's clock as the browser journeys do.
    root = request.config.rootpath
    if any(request.node.path.is_relative_to(root / place) for place in ("e2e", "tests/production")):
        yield
        return
    with time_machine.travel(TEST_NOW, tick=True):
        yield


@pytest.fixture
def reference_data(db: None) -> None:
    services.load_organisations()
    rules.load_rule_parameters()
    calendar.load_package_calendar()


@pytest.fixture
def cast(reference_data: None) -> dict[str, User]:
    demo.ensure_demo_accounts()
    return {user.username: user for user in User.objects.all()}


@pytest.fixture
def password() -> str:
    return demo.DEMO_PASSWORD


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    """Each test starts with an empty cache: a rolled-back test database starts again at the public
    revision "initial", so entries of an earlier test must not be found."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    """PBKDF2 at production strength costs ~0.3 s per hash; tests create a dozen accounts each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def catalogue(cast: dict[str, User]) -> dict[str, User]:
    """Yuexiu's seeded catalogue (the twelve guides, the 13 bundles) on top of the cast; returns the cast.

    孙编辑 (editor_scj) edits 区市场监管局's guides, 钟编辑 (editor_wjj) 区卫生健康局's, 梁审核
    (reviewer_zsj) reviews and publishes for the bureau."""
    from yuexiu.catalog import seed

    seed.load_seed_catalogue()
    return cast


@pytest.fixture
def food(catalogue: dict[str, User]):
    """食品经营许可（新办）, the seeded item most case tests apply for (its 服务对象 is 法人)."""
    from yuexiu.catalog.models import ServiceItem

    return ServiceItem.objects.get(seed_key="food-business-licence-new")


@pytest.fixture(autouse=True)
def isolated_media(settings, tmp_path) -> None:
    """Uploaded files go to a fresh folder per test."""
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's S3 stand-in on 127.0.0.1 (a free port), for the production storage; yields its URL."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per S3 request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def object_storage(moto_server: str, settings) -> str:
    """Media and Parquet snapshots in a fresh bucket of the S3 stand-in, as ``STORAGE_BACKEND=s3``
    configures them; returns the bucket's name."""
    import uuid

    import boto3

    from yuexiu.settings import s3_storage

    bucket = f"yuexiu-{uuid.uuid4().hex[:12]}"
    credentials = {"access_key_id": "test-key", "secret_access_key": "test-secret", "region": "us-east-1"}
    boto3.client(
        "s3",
        endpoint_url=moto_server,
        aws_access_key_id="test-key",
        aws_secret_access_key="test-secret",
        region_name="us-east-1",
    ).create_bucket(Bucket=bucket)
    options = {"bucket": bucket, "endpoint_url": moto_server, **credentials}
    settings.STORAGES = {
        **settings.STORAGES,
        "default": s3_storage(location="media", **options),
        "snapshots": s3_storage(location="snapshots", **options),
    }
    return bucket
