"""Rule tests: YAML situations in the OpenFisca test style, run through BOTH evaluations.

A test file is a YAML list of cases::

    - name: 营业收入比门槛多1元即符合
      item: sample-2025-01          # the 兑现事项 code
      period: 2025                  # the year the run is for
      as_of: 2025-06-30             # optional; default the period's 31 December
      input:                        # attributes of engine.attributes; money with its unit
        district: 越秀区
        revenue: 20000001元
        tags: [高新技术企业]
      granted: {sample-2025-01: [2024]}   # optional: years already granted, per item code
      output:
        eligible: true               # the data decide it (manual conditions counted as NOT met)
        lead: false                  # optional: true when only a department's finding makes it eligible
        amount: 100000元             # optional; money with its unit
        failed: [高新技术企业]        # optional: labels of the conditions that failed, exactly
      absolute_error_margin: 0.01   # optional, 元; default 0 (amounts are exact to the 分)

Each case is decided by the reference evaluation (``engine.reference``) and by the SQL engine on a
one-row DuckDB table; a case passes only when both give the expected output. Pure module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from yuexiu.policies.engine import reference, sql
from yuexiu.policies.engine.attributes import ATTRIBUTES, tags_to_mask
from yuexiu.policies.engine.rules import Item, PolicyRules, RuleFileError, load_rule_file, parse_money, parse_yaml

CASE_KEYS = {"name", "item", "period", "as_of", "input", "granted", "output", "absolute_error_margin", "keywords"}


@dataclass
class CaseResult:
    source: str
    line: int
    name: str
    passed: bool
    problems: list[str]


def load_library(directory: Path) -> list[PolicyRules]:
    """Every ``*.yaml`` rule file under ``directory``, checked; item codes must be unique across files.
    Raises ``RuleFileError`` (all problems of all files)."""
    policies, problems, seen = [], [], {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            policy = load_rule_file(path.read_text(encoding="utf-8"), path.name)
        except RuleFileError as exc:
            problems.extend((line, f"{path.name}：{reason}") for line, reason in exc.problems)
            continue
        for item in policy.items:
            if item.code in seen:
                problems.append((item.line, f"{path.name}：事项编码“{item.code}”与 {seen[item.code]} 重复"))
            seen[item.code] = path.name
        policies.append(policy)
    if problems:
        raise RuleFileError(problems)
    return policies


def row_from_input(values: dict[str, Any]) -> dict[str, Any]:
    """Test input (money with units, tag names) → an engine row. Raises ``ValueError`` in Chinese."""
    row: dict[str, Any] = dict.fromkeys(ATTRIBUTES)
    for name, value in values.items():
        attribute = ATTRIBUTES.get(name)
        if attribute is None:
            raise ValueError(f"未知的企业属性“{name}”")
        if value is None:
            continue
        if attribute.type == "money":
            money = parse_money(value)
            if money is None:
                raise ValueError(f"{name} 应写明金额和单位，如“100万元”，实际为“{value}”")
            value = money
        elif attribute.type == "tags":
            value = tags_to_mask(value if isinstance(value, list) else [value])
        elif attribute.type == "date" and isinstance(value, str):
            value = date.fromisoformat(value)
        elif attribute.type == "code":
            value = str(value)
        row[name] = value
    return row


def sql_decision(job: sql.Job, row: dict[str, Any], context: reference.Context) -> tuple[bool, int | None, int, bool]:
    """(passes the data, amount_fen, failed_mask, lead) from the SQL engine on a one-row table."""
    con = duckdb.connect()
    try:
        sql.create_registry_table(con)
        names = list(ATTRIBUTES)
        con.execute(
            f"INSERT INTO enterprises VALUES (1, {', '.join('?' for _ in names)})",
            [row.get(n) for n in names],
        )
        sql.ensure_granted(con)
        for code, years in context.granted.items():
            for year in years:
                con.execute("INSERT INTO granted VALUES (?, ?, ?)", [row.get("uscc"), code, year])
        decided = sql.decide_rows(con, job, period=context.period, as_of=context.as_of)
    finally:
        con.close()
    if 1 in decided:
        mask, amount, lead = decided[1]
        return True, amount, mask, lead
    return False, None, -1, False


def run_case(case: dict, items: dict[str, Item], source: str, line: int) -> CaseResult:
    name = str(case.get("name") or f"第{line}行的用例")
    problems: list[str] = []
    unknown = set(case) - CASE_KEYS
    if unknown:
        problems.append(f"不认识的字段：{'、'.join(sorted(unknown))}")
    item = items.get(str(case.get("item")))
    if item is None:
        return CaseResult(source, line, name, False, [f"找不到事项“{case.get('item')}”"])
    period = case.get("period")
    if not isinstance(period, int):
        return CaseResult(source, line, name, False, ["period 应为年份，如 2025"])
    as_of = case.get("as_of") or date(period, 12, 31)
    if isinstance(as_of, str):
        as_of = date.fromisoformat(as_of)
    granted = {str(k): {int(y) for y in v} for k, v in (case.get("granted") or {}).items()}
    context = reference.Context(period=period, as_of=as_of, granted=granted)
    try:
        row = row_from_input(dict(case.get("input") or {}))
        row.setdefault("uscc", None)
        if row["uscc"] is None:
            row["uscc"] = "TEST"
    except ValueError as exc:
        return CaseResult(source, line, name, False, [str(exc)])
    expected = case.get("output") or {}
    margin = Decimal(str(case.get("absolute_error_margin", 0)))
    # The rules are checked on their dates even while the document's validity is not recorded (an
    # unknown date bounds nothing here); whether a run applies them is the recorded validity's matter.
    version = item.version_covering(as_of)
    if version is None:
        decision = reference.Decision(False, None, 0, [])
        sql_result = (False, None, -1, False)
    else:
        decision = reference.decide(version, row, context, item.code)
        sql_result = sql_decision(sql.Job(0, item, version), row, context)
    if "eligible" in expected and decision.eligible != bool(expected["eligible"]):
        failed = "、".join(f"{c.label}（{c.seen}）" for c in decision.failed) or (
            "政策不在有效期内" if version is None else "无"
        )
        problems.append(
            f"应{'符合' if expected['eligible'] else '不符合'}，实际{'符合' if decision.eligible else '不符合'}；未满足：{failed}"  # noqa: E501
        )
    if decision.lead != bool(expected.get("lead", False)):
        manual = "、".join(c.label for c in decision.manual)
        problems.append(
            f"应{'是' if expected.get('lead') else '不是'}线索，实际{'是线索（须认定：' + manual + '）' if decision.lead else '不是线索'}"  # noqa: E501
        )
    if "amount" in expected:
        want = parse_money(expected["amount"])
        if want is None:
            problems.append(f"output.amount 应写明金额和单位，实际为“{expected['amount']}”")
        else:
            got = Decimal(decision.amount_fen or 0) / 100
            if abs(got - want) > margin:
                problems.append(f"金额应为 {reference.format_yuan(want)}，实际 {reference.format_yuan(got)}")
    if "failed" in expected:
        want_failed = set(expected["failed"] or [])
        got_failed = {c.label for c in decision.failed}
        if want_failed != got_failed:
            problems.append(f"未满足的条件应为 {sorted(want_failed)}，实际 {sorted(got_failed)}")
    reference_result = (decision.passes_data, decision.amount_fen, decision.failed_mask, decision.lead)
    if sql_result[0] != decision.passes_data or (decision.passes_data and sql_result != reference_result):
        problems.append(f"SQL 引擎与逐户计算不一致：SQL {sql_result}，逐户 {reference_result}")
    return CaseResult(source, line, name, not problems, problems)


def run_tests(test_dir: Path, policies: list[PolicyRules]) -> list[CaseResult]:
    """Run every ``*.yaml`` test file under ``test_dir`` against the library."""
    items = {item.code: item for policy in policies for item in policy.items}
    results = []
    for path in sorted(test_dir.glob("*.yaml")):
        try:
            cases = parse_yaml(path.read_text(encoding="utf-8"), path.name)
        except RuleFileError as exc:
            results.append(CaseResult(path.name, 0, "文件无法读取", False, [str(exc)]))
            continue
        if not isinstance(cases, list):
            results.append(CaseResult(path.name, 1, "文件格式", False, ["测试文件应为用例列表"]))
            continue
        for case, line in zip(cases, cases.item_lines, strict=True):
            results.append(
                run_case(case, items, path.name, line)
                if isinstance(case, dict)
                else CaseResult(path.name, line, "?", False, ["用例应为映射"])
            )
    return results
