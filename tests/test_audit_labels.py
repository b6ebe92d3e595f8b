"""The audit log in Chinese: every recorded event has a Chinese name (one table,
``core/audit_actions.py``), the pages and the export show event and role names, and the filter takes
Chinese names."""

from __future__ import annotations

import ast
import csv
import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from yuexiu.cases.models import ACTION_LABELS as CASE_EVENT_LABELS
from yuexiu.core import audit, audit_actions
from yuexiu.ratings.models import Step

SRC = Path(__file__).resolve().parent.parent / "src" / "yuexiu"
JUNE_MORNING = datetime(2025, 6, 18, 10, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(JUNE_MORNING, tick=False):
        yield


def _name(call: ast.Call) -> str:
    return call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")


def _strings(node: ast.AST) -> list[str]:
    """The string constants an expression can take (``"a" if c else "b"`` gives both)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    return []


def recorded_actions() -> tuple[set[str], set[str], set[str]]:
    """What src/ passes as an audit action: literal codes, f-string templates, and other expressions
    (``file:expression``), read from every ``record_event(action=...)`` and ``audit_refusal(_, ...)``."""
    literals: set[str] = set()
    templates: set[str] = set()
    others: set[str] = set()
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {  # module-level NAME = "code"
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            for target in node.targets
            if isinstance(target, ast.Name) and isinstance(node.value.value, str)
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            if _name(node) == "record_event":
                values = [keyword.value for keyword in node.keywords if keyword.arg == "action"]
            elif _name(node) == "audit_refusal" and len(node.args) >= 2:
                values = [node.args[1]]
            else:
                continue
            for value in values:
                if isinstance(value, ast.Name) and value.id in constants:
                    literals.add(constants[value.id])
                elif _strings(value):
                    literals.update(_strings(value))
                elif isinstance(value, ast.JoinedStr):
                    templates.add(ast.unparse(value))
                else:
                    others.add(f"{path.relative_to(SRC)}:{ast.unparse(value)}")
    return literals, templates, others


def compared_with(path: Path, function: str, variable: str) -> set[str]:
    """The strings ``variable`` is compared with (``==`` or ``in``) inside ``function`` of ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    [body] = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name == function]
    found: set[str] = set()
    for node in ast.walk(body):
        if isinstance(node, ast.Compare) and isinstance(node.left, ast.Name) and node.left.id == variable:
            for comparator in node.comparators:
                if isinstance(comparator, ast.Tuple):
                    found.update(item.value for item in comparator.elts if isinstance(item, ast.Constant))
                elif isinstance(comparator, ast.Constant):
                    found.add(comparator.value)
    return found


# How each f-string family of action codes expands: add a family here when src/ grows one.
FAMILIES = {
    "f'case.{action}'": lambda: {f"case.{action}" for action in CASE_EVENT_LABELS},
    "f'rectification.{finished}'": lambda: {f"rectification.{step}" for step in Step.values if step != Step.CLOSED},
    "f'policies.{action}_refused'": lambda: {
        f"policies.{action}_refused"
        for action in compared_with(SRC / "policies" / "views.py", "candidate_action", "action")
    },
    # the console's ``<model>.created|updated|deleted`` are named from each model's verbose_name
    "f'{obj._meta.model_name}.created'": set,
    "f'{obj._meta.model_name}.updated'": set,
    "f'{obj._meta.model_name}.deleted'": set,
}
PASSED_THROUGH = {
    "core/admin.py:action",  # the console's f"{model_name}.{'updated' if change else 'created'}"
    "policies/services.py:action",  # audit_refusal's parameter: its callers are read above
}


def test_every_action_code_recorded_anywhere_in_src_has_a_chinese_name():
    literals, templates, others = recorded_actions()
    assert len(literals) > 60  # the scan reads the source, not nothing
    assert templates == set(FAMILIES), "a new family of action codes: expand it in FAMILIES and name it"
    assert others == PASSED_THROUGH
    codes = literals | {code for expand in FAMILIES.values() for code in expand()}
    unnamed = sorted(code for code in codes if code not in audit_actions.ACTION_LABELS)
    assert unnamed == [], "add these to core/audit_actions.py ACTION_LABELS"
    assert {
        "case.accepted",
        "rectification.callback",
        "policies.pay_refused",
        "security.foreign_object_requested",
    } <= codes


def test_every_name_is_chinese_and_no_two_events_share_one():
    labels = list(audit_actions.ACTION_LABELS.values())
    assert all(any("\u4e00" <= char <= "\u9fff" for char in label) for label in labels)
    assert len(set(labels)) == len(labels)


@pytest.mark.django_db
def test_console_changes_are_named_from_the_models_chinese_name(reference_data):
    assert audit_actions.action_label("holidayyear.updated") == "管理后台修改节假日年度安排"
    assert audit_actions.action_label("roleassignment.deleted") == "管理后台删除角色授权"
    assert audit_actions.action_label("organisation.updated") == "修改组织机构"  # the table wins


@pytest.fixture
def events(cast):
    with time_machine.travel(JUNE_MORNING, tick=False):
        audit.record_event(action="auth.login_succeeded", actor=cast["window_hongqiao"])
        audit.record_event(action="auth.login_failed", actor_username="nobody", outcome="failed")
        audit.record_event(action="calendar.notice_imported", actor=cast["sysadmin"], message="2026 年通知")
        audit.record_event(action="organisation.updated", actor=cast["sysadmin"], message="改名")
    return cast


@time_machine.travel(JUNE_MORNING, tick=False)
def test_the_audit_page_shows_event_and_role_names_in_chinese(client, events):
    client.force_login(events["auditadmin"])
    page = client.get("/workbench/audit/").content.decode()
    assert "<td>窗口工作人员</td>" in page
    assert '<td>登录成功<br><span class="code muted">auth.login_succeeded</span></td>' in page
    assert "导入节假日安排（国务院通知）" in page


@time_machine.travel(JUNE_MORNING, tick=False)
@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("登录", {"auth.login_succeeded", "auth.login_failed"}),
        ("导入节假日安排", {"calendar.notice_imported"}),
        ("auth.", {"auth.login_succeeded", "auth.login_failed"}),
        ("organisation.", {"organisation.updated", "organisation.loaded"}),  # loaded with the reference data
    ],
)
def test_the_filter_takes_chinese_names_and_code_prefixes(client, events, typed, found):
    client.force_login(events["auditadmin"])
    export = client.get("/workbench/audit/export.csv", {"action": typed})
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert {row["事件代码"] for row in rows} == found
    body = client.get("/api/v1/audit-events", {"action": typed}).json()
    assert {item["action"] for item in body["items"]} == found


@time_machine.travel(JUNE_MORNING, tick=False)
def test_the_export_and_the_api_name_events_and_roles_in_chinese(client, events):
    client.force_login(events["auditadmin"])
    query = {"action": "登录成功", "actor": "window_hongqiao"}  # the administrator's own login is there too
    export = client.get("/workbench/audit/export.csv", query)
    [row] = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert (row["事件"], row["事件代码"], row["角色"]) == ("登录成功", "auth.login_succeeded", "窗口工作人员")
    [item] = client.get("/api/v1/audit-events", query).json()["items"]
    assert (item["action_label"], item["actor_role_labels"]) == ("登录成功", "窗口工作人员")
