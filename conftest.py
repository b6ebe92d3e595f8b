"""Fixtures shared by the unit, API and browser tests: Yuexiu's reference data and a named cast.

The cast: 陈窗口 (window_hongqiao) works at 洪桥街道, 黄窗口 (window_beijing) at 北京街道, 周监督
(supervisor_demo) supervises the whole district, 罗审计 (auditadmin) is the audit administrator,
张晓越 (citizen_demo) is a citizen.
"""

from __future__ import annotations

import pytest

from yuexiu.core import calendar, demo, rules, services
from yuexiu.core.models import User


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
def fast_password_hashing(settings) -> None:
    """PBKDF2 at production strength costs ~0.3 s per hash; tests create a dozen accounts each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
