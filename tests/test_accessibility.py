"""Accessibility of the pages themselves (issue 11, section 6): tables that scroll are named regions a
keyboard can reach, the focus ring stands out against every background it is drawn on, required
materials and fields say so to screen readers, and the public menu does not send people to the API
docs page (Swagger UI, which fails axe). The browser sweep is e2e/test_accessibility_journey.py."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.html_page import Page
from yuexiu.cases.services import required_uploads
from yuexiu.catalog.models import ServiceBundle, ServiceItem
from yuexiu.catalog.selectors import merge_bundle

pytestmark = pytest.mark.django_db

SRC = Path(__file__).resolve().parent.parent / "src" / "yuexiu"
SITE_CSS = SRC / "core" / "static" / "core" / "site.css"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(datetime(2025, 6, 18, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield


# ---- tables that scroll ---------------------------------------------------------------------------

TABLE = re.compile(r"<table\b[^>]*>\s*<caption\b([^>]*)>", re.S)


def test_every_table_in_every_template_sits_in_a_focusable_region_named_by_its_caption():
    templates = sorted(SRC.rglob("templates/**/*.html"))
    tables = 0
    for template in templates:
        text = template.read_text(encoding="utf-8")
        for match in re.finditer(r"<table\b", text):
            tables += 1
            wrapper = text[: match.start()].rsplit("<div", 1)[-1]
            attributes = dict(re.findall(r'([a-z-]+)="([^"]*)"', wrapper.split(">", 1)[0]))
            where = f"{template.relative_to(SRC)}: table {tables}"
            assert attributes.get("class") == "table-wrap", where
            assert attributes.get("role") == "region", where
            assert attributes.get("tabindex") == "0", where
            caption = TABLE.match(text, match.start())
            assert caption is not None, f"{where} has no caption"
            assert f'id="{attributes.get("aria-labelledby")}"' in caption.group(1), where
    assert tables >= 34  # every table the platform had when this rule came in (issue 11); new ones join it


def test_the_materials_table_of_an_item_page_is_a_region_named_after_its_caption(client, catalogue):
    item = ServiceItem.objects.get(seed_key="food-business-licence-new")
    page = Page(client.get(f"/services/items/{item.slug}/").content.decode())
    wrapper = page.by_id("materials-table").parent
    assert wrapper is not None
    assert (wrapper.attrs["role"], wrapper.attrs["tabindex"]) == ("region", "0")
    assert page.by_id(wrapper.attrs["aria-labelledby"]).text_content() == "申请材料"


# ---- the focus ring ---------------------------------------------------------------------------------


def _luminance(colour: str) -> float:
    channels = [int(colour[index : index + 2], 16) / 255 for index in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    """WCAG 2.1 contrast ratio of two #rrggbb colours."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _css_variables(css: str) -> dict[str, str]:
    return dict(re.findall(r"(--[a-z-]+):\s*(#[0-9a-fA-F]{6})", css))


def _resolve(value: str, variables: dict[str, str]) -> str:
    value = value.strip()
    while value.startswith("var("):
        value = variables[value[4:-1].strip()]
    return value.lower()


def test_the_focus_ring_has_at_least_3_to_1_against_every_background_it_is_drawn_on():
    css = SITE_CSS.read_text(encoding="utf-8")
    variables = _css_variables(css)
    rule = re.search(r":focus-visible[^{]*\{[^}]*?outline:\s*\d+px\s+solid\s+([^;}]+)", css)
    assert rule is not None
    ring = _resolve(rule.group(1), variables)
    light_backgrounds = {
        "page": variables["--paper"],
        "tint (tables, cards, footer)": variables["--tint"],
        **{
            name: colour
            for name, colour in re.findall(r"\.(message-?[a-z]*)\s*\{[^}]*background:\s*(#[0-9a-f]{6})", css)
        },
    }
    assert len(light_backgrounds) == 6
    for name, background in light_backgrounds.items():
        assert contrast(ring, background) >= 3, (
            f"focus ring {ring} on {name} {background}: {contrast(ring, background):.2f}"
        )
    # The header is dark red: its links and buttons get their own ring.
    header = re.search(r"\.site-header, \.skip-link \{ --focus-ring: ([^;]+);", css)
    assert header is not None
    header_ring = _resolve(header.group(1), variables)
    assert contrast(header_ring, variables["--brand"]) >= 3
    assert round(contrast(ring, "#ffffff"), 1) == 6.7
    assert round(contrast(header_ring, variables["--brand"]), 1) == 5.4


# ---- required materials and fields -----------------------------------------------------------------


def test_an_online_application_marks_exactly_the_materials_the_server_requires(client, catalogue):
    item = ServiceItem.objects.get(seed_key="food-business-licence-new")  # for 法人: an enterprise applies
    client.force_login(catalogue["enterprise_demo"])
    html = client.get(f"/services/items/{item.slug}/apply/").content.decode()
    page = Page(html)
    required = set(required_uploads(item))
    assert required == {
        "与食品经营相适应的主要设备设施布局、操作流程等文件",
        "食品安全自查、从业人员健康管理、进货查验记录、食品安全事故处置等保证食品安全的规章制度",
    }
    marked, unmarked = set(), set()
    for file_input in page.all("input"):
        if file_input.attrs.get("type") != "file" or file_input.attrs["id"] == "material-other":
            continue
        label = page.label_for(file_input.attrs["id"])
        if file_input.attrs.get("aria-required") == "true":
            assert label.endswith("（必需）")
            assert file_input.attrs["aria-describedby"] == "materials-help"
            marked.add(label.removesuffix("（必需）"))
        else:
            assert "必需" not in label
            unmarked.add(label)
    assert marked == required
    assert "食品经营许可申请书" in unmarked  # an online form: the platform generates it
    assert page.by_id("materials-help").text_content() == "标有“（必需）”的材料必须上传，其余视情况提交。"
    assert 'aria-hidden="true">*' not in html
    assert "novalidate" in page.by_id("apply-form").attrs  # every problem is reported at once by the server


def test_a_window_registration_marks_no_upload_as_required(client, catalogue):
    item = ServiceItem.objects.get(seed_key="food-business-licence-new")
    client.force_login(catalogue["window_centre"])
    page = Page(client.get(f"/workbench/cases/register/{item.slug}/").content.decode())
    assert [element for element in page.all("input") if element.attrs.get("aria-required")] == []
    assert "（必需）" not in page.by_id("apply-form").text_content()


def test_a_bundle_application_marks_its_required_fields_and_materials(client, catalogue):
    bundle = ServiceBundle.objects.get(slug="kai-ban-can-yin-dian-yi-jian-shi")
    client.force_login(catalogue["citizen_demo"])
    html = client.get(f"/services/bundles/{bundle.slug}/apply/").content.decode()
    page = Page(html)
    required_inputs = [
        element
        for element in page.all("input") + page.all("select")
        if "required" in element.attrs or element.attrs.get("aria-required") == "true"
    ]
    assert required_inputs
    for element in required_inputs:
        label = page.label_for(element.attrs["id"])
        assert label.endswith("（必填）") or label.endswith("（必需）"), label
    materials = [element for element in required_inputs if element.attrs.get("type") == "file"]
    to_submit = [material.name for material in merge_bundle(bundle).materials_to_submit]
    assert len(to_submit) == 3
    assert [page.label_for(element.attrs["id"]).removesuffix("（必需）") for element in materials] == to_submit
    assert 'aria-hidden="true">*' not in html


# ---- the API docs page is for developers --------------------------------------------------------------


def test_the_public_menu_no_longer_links_the_api_docs_and_the_workbench_does(client, catalogue):
    home = Page(client.get("/").content.decode())
    menu = [element for element in home.all("nav") if element.attrs.get("aria-label") == "主导航"][0]
    assert "/api/v1/docs" not in str([link.attrs.get("href") for link in home.all("a")])
    assert "开放接口" not in menu.text_content()
    client.force_login(catalogue["window_centre"])
    workbench = Page(client.get("/workbench/").content.decode())
    assert [link.text_content() for link in workbench.all("a") if link.attrs.get("href") == "/api/v1/docs"] == [
        "开放接口文档（开发者）"
    ]
