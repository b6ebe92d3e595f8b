"""Browser journeys: Playwright for Python driving Debian's chromium against a live server."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from yuexiu.catalog import seed
from yuexiu.core import calendar, demo, rules, services
from yuexiu.ratings.services import load_question_sets

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
AXE_SCRIPT = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
AXE_REPORT = Path(os.environ.get("YUEXIU_VAR_DIR", "var")) / "axe-report.jsonl"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"找不到 {CHROMIUM}：请先运行 make test（会自动安装），或 apt-get install chromium fonts-noto-cjk")
    if not AXE_SCRIPT.exists():
        pytest.fail("找不到 axe-core：请先运行 make test（npm ci 会安装 node_modules/axe-core）")
    # Playwright's sync API keeps an event loop running in this thread; the fixtures' and tests' ORM
    # calls are ordinary synchronous calls, so Django's async guard is lifted while the browser runs.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def site(transactional_db: None, live_server) -> str:
    services.load_organisations()
    rules.load_rule_parameters()
    calendar.load_package_calendar()
    demo.ensure_demo_accounts()
    seed.load_seed_catalogue()
    load_question_sets()
    return live_server.url


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    # bypass_csp lets the test inject axe-core; the pages themselves are served with the real CSP.
    context = browser.new_context(locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


def check_accessibility(page: Page, label: str) -> list[dict[str, object]]:
    """Run axe-core (WCAG 2.1 A/AA rules) on the page; fail on any serious or critical violation."""
    page.add_script_tag(path=str(AXE_SCRIPT))
    violations = page.evaluate(
        """async () => {
            const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return result.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length,
                                                 targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }"""
    )
    AXE_REPORT.parent.mkdir(parents=True, exist_ok=True)
    with AXE_REPORT.open("a", encoding="utf-8") as report:
        report.write(json.dumps({"page": label, "url": page.url, "violations": violations}, ensure_ascii=False) + "\n")
    blocking = [v for v in violations if v["impact"] in {"serious", "critical"}]
    assert blocking == [], f"{label}: axe-core 报告严重无障碍问题 {blocking}"
    return violations
