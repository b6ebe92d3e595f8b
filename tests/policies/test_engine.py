"""The engine without Django: rule files refused with line and reason, the YAML rule tests of the
seed library, and the vectorised SQL giving the reference evaluation's decision, failed conditions
and amount to the 分 for every enterprise of a synthetic registry and every item of the library."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path

import duckdb
import pytest

from yuexiu.policies import registry
from yuexiu.policies.engine import describe, reference, sql, testing
from yuexiu.policies.engine.attributes import ATTRIBUTES, to_engine_row
from yuexiu.policies.engine.rules import RuleFileError, load_rule_file

DATA = Path(__file__).resolve().parents[2] / "src" / "yuexiu" / "policies" / "data"
LOOP_RULES = Path(__file__).parent / "rules" / "loop-policy.yaml"


def _problems(text: str) -> list[tuple[int, str]]:
    with pytest.raises(RuleFileError) as error:
        load_rule_file(text)
    return error.value.problems


def test_the_seed_library_has_78_items_12_without_application():
    library = testing.load_library(DATA / "rules")
    items = [item for policy in library for item in policy.items]
    assert (len(items), sum(item.mode == "免申即享" for item in items)) == (78, 12)
    real = [item for policy in library if not policy.illustration for item in policy.items]
    assert len(real) == 51
    # Awards that were not read are kept with their conditions and never given an amount.
    assert all(version.amount is None for item in items if item.incomplete for version in item.versions)


def test_every_yaml_rule_test_passes_through_both_evaluations():
    library = testing.load_library(DATA / "rules")
    results = testing.run_tests(DATA / "tests", library)
    assert len(results) >= 78
    failed = [f"{r.source}:{r.line} {r.name} {r.problems}" for r in results if not r.passed]
    assert failed == []


def test_invalid_rules_are_refused_with_the_line_and_the_reason():
    text = LOOP_RULES.read_text(encoding="utf-8")
    assert _problems(text.replace('op: ">", value: 100万元', "op: has, value: 100万元")) == [
        (21, "属性 rd_expense（上年度研发费用（元））不能用运算“has”（可用：!= < <= = > >=）")
    ]
    assert _problems(text.replace("attr: rd_expense", "attr: rd_spend")) == [
        (21, "未知的企业属性“rd_spend”（见 engine/attributes.py）")
    ]
    assert _problems(text.replace("mode: 申报", "mode: 免申即享"))[0][0] == 37
    assert "需人工认定" in _problems(text.replace("mode: 申报", "mode: 免申即享"))[0][1]
    assert _problems(text.replace("          rounding: {to: 元, mode: down}\n", "")) == [
        (25, "按公式计算的金额须写 rounding（舍入单位和方式，如 {to: 元, mode: down}）")
    ]
    assert _problems(text.replace("expires: 2026-12-31", "expires: 2024-12-31"))[0] == (7, "失效日期早于生效日期")
    assert _problems("policy: [\n")[0][1].startswith("YAML 格式错误")
    incomplete = text.replace(
        "    fund_source: 区级财政\n", "    fund_source: 区级财政\n    incomplete: 奖励条款未读到\n"
    )
    assert _problems(incomplete) == [(26, "标为 incomplete（奖励标准未读到）的事项不能写 amount：金额不得推测")]


def _registry_rows(n: int) -> list[dict]:
    rows = []
    for number, row in enumerate(registry.generate_synthetic(n, seed=7, year=2025)):
        engine = to_engine_row(row)
        engine["row_id"] = number
        rows.append(engine)
    return rows


def test_the_vectorised_engine_agrees_with_the_reference_for_every_pair():
    library = testing.load_library(DATA / "rules")
    items = [item for policy in library for item in policy.items]
    rows = _registry_rows(1500)
    # Make boundaries likely: some enterprises exactly on a money threshold of some rule.
    for row, threshold in zip(
        rows[::50], [v for i in items for ver in i.versions for v in _money_thresholds(ver.eligibility)], strict=False
    ):
        row["revenue"] = threshold
    as_of, period = date(2026, 6, 30), 2026
    con = duckdb.connect()
    sql.create_registry_table(con)
    names = list(ATTRIBUTES)
    con.executemany(
        f"INSERT INTO enterprises VALUES (?, {', '.join('?' for _ in names)})",
        [[r["row_id"], *(r[n] for n in names)] for r in rows],
    )
    sql.ensure_granted(con)
    granted_uscc = rows[3]["uscc"]
    con.execute(
        "INSERT INTO granted SELECT ?, code, 2026 FROM (SELECT unnest(?) AS code)",
        [granted_uscc, [i.code for i in items]],
    )
    # Every item whose rule dates cover the day, its document's validity recorded or not: the two
    # evaluations are compared on the rules (whether a run applies them is not this test's matter).
    jobs = [sql.Job(n, item, v) for n, item in enumerate(items) if (v := item.version_covering(as_of)) is not None]
    assert len(jobs) == 71
    compared = eligible = leads = 0
    for job in jobs:
        decided = sql.decide_rows(con, job, period=period, as_of=as_of)
        for row in rows:
            granted = {job.item.code: {2026}} if row["uscc"] == granted_uscc else {}
            decision = reference.decide(job.version, row, reference.Context(period, as_of, granted), job.item.code)
            got = decided.get(row["row_id"])
            assert (got is not None) == decision.passes_data, (
                job.item.code,
                row["uscc"],
                [c.label for c in decision.failed],
            )
            if got is not None:
                assert got == (decision.failed_mask, decision.amount_fen, decision.lead), (job.item.code, row["uscc"])
                eligible += decision.eligible
                leads += decision.lead
            compared += 1
    assert (compared, eligible > 200, leads > 500) == (len(jobs) * 1500, True, True), (eligible, leads)


def _money_thresholds(node) -> list:
    from yuexiu.policies.engine.rules import Compare, Group

    if isinstance(node, Group):
        return [v for child in node.children for v in _money_thresholds(child)]
    if isinstance(node, Compare) and node.attr == "revenue" and not isinstance(node.value, list):
        return [node.value]
    return []


def test_a_matching_run_writes_the_pairs_and_refuses_expired_policies(tmp_path):
    rules = load_rule_file(LOOP_RULES.read_text(encoding="utf-8"))
    con = duckdb.connect()
    sql.create_registry_table(con)
    con.execute(
        "INSERT INTO enterprises (row_id, uscc, district, rd_expense, credit_status) VALUES (1, 'A', '越秀区', 1000001, '良好'), (2, 'B', '越秀区', 1000000, '良好'), (3, 'C', '越秀区', 9000000, '严重失信')"  # noqa: E501
    )
    result = sql.match(con, rules.items, period=2026, as_of=date(2026, 12, 31), out_dir=tmp_path, batch_size=1)
    # Item 0 (免申即享): one eligible enterprise. Item 1 (申报, 首店 decided by the department): three
    # leads, counted apart, with no amount summed.
    assert (result.pairs, result.leads, result.skipped) == (1, 3, [])
    assert result.by_item == {0: sql.ItemResult(1, 10000000, 0), 1: sql.ItemResult(0, 0, 3)}
    later = sql.match(con, rules.items, period=2027, as_of=date(2027, 1, 1), out_dir=tmp_path)
    assert (later.pairs, later.skipped) == (0, ["loop-test-2025-01", "loop-test-2025-02"])


def test_a_product_too_large_for_64_bits_falls_back_to_128_bit_decimals():
    rules = load_rule_file(
        LOOP_RULES.read_text(encoding="utf-8")
        .replace("rd_expense * 10%", "rd_expense * rd_expense * 10%")
        .replace("cap: 15万元", "cap: 1亿元")
    )
    item = copy.deepcopy(rules.items[0])
    con = duckdb.connect()
    sql.create_registry_table(con)
    con.execute(
        "INSERT INTO enterprises (row_id, uscc, district, rd_expense, credit_status) VALUES (1, 'A', '越秀区', 987654321.98, '良好')"  # noqa: E501
    )
    decided = sql.decide_rows(con, sql.Job(0, item, item.versions[0]), period=2026, as_of=date(2026, 1, 1))
    assert decided == {1: (0, 10000000000, False)}


def test_a_condition_cites_the_general_rule_it_comes_from_and_staff_read_it():
    text = LOOP_RULES.read_text(encoding="utf-8").replace(
        '            - {label: 无严重失信记录, attr: credit_status, op: "!=", value: 严重失信}\n',
        "            - label: 未被列为严重失信主体\n"
        "              attr: credit_status\n"
        '              op: "!="\n'
        "              value: 严重失信\n"
        "              source: {document: 国发〔2016〕33号, clause: 二、（十一）, url: http://www.cptp.org.cn/902.html,"
        " confidence: L}\n",
    )
    rules = load_rule_file(text)
    version = rules.items[0].versions[0]
    credit = version.leaves[2]
    assert str(credit.source) == "国发〔2016〕33号二、（十一）（可信度 L）"
    assert version.leaves[0].source is None  # the item's own clause
    row = testing.row_from_input({"district": "越秀区", "rd_expense": "200万元", "credit_status": "严重失信"})
    decision = reference.decide(version, row, reference.Context(period=2025, as_of=date(2025, 12, 31)), "x")
    assert [(c.label, c.source) for c in decision.failed] == [("未被列为严重失信主体", str(credit.source))]
    assert (
        "〔依据：国发〔2016〕33号二、（十一）（可信度 L）〕"
        in describe.condition_lines(version.eligibility, sources=True)[2][1]
    )
    assert "依据" not in describe.condition_lines(version.eligibility)[2][1]  # the public sees the condition only
    bad = text.replace(
        "url: http://www.cptp.org.cn/902.html, confidence: L", "url: cptp.org.cn, confidence: X, page: 3"
    )
    assert sorted(reason for _, reason in _problems(bad)) == sorted(
        [
            "条件的 source 不认识的字段“page”（可用：clause、confidence、document、note、url）",
            "source.confidence 应为 H/M/L/U",
            "“url”应为 http:// 或 https:// 开头的网址",
        ]
    )
    assert "条件的 source 缺少“document”" in _problems(text.replace("document: 国发〔2016〕33号, ", ""))[0][1]


def test_a_step_award_rounds_down_to_a_step_written_as_an_amount():
    text = LOOP_RULES.read_text(encoding="utf-8").replace(
        "          formula: rd_expense * 10%\n          cap: 15万元\n          rounding: {to: 元, mode: down}",
        "          formula: rd_expense * 0.5%\n          cap: 50万元\n          rounding: {to: 5万元, mode: down}",
    )
    version = load_rule_file(text).items[0].versions[0]
    assert str(version.amount.rounding) == "按每5万元舍去（向下取整）"
    context = reference.Context(period=2025, as_of=date(2025, 12, 31))
    job = sql.Job(0, load_rule_file(text).items[0], version)
    for spent, fen in (("19999999.99元", 5_000_000), ("2000万元", 10_000_000), ("9亿元", 50_000_000)):
        row = testing.row_from_input({"district": "越秀区", "rd_expense": spent, "credit_status": "良好"})
        assert reference.decide(version, row, context, job.item.code).amount_fen == fen  # floor(x ÷ 1000万) × 5万
        assert testing.sql_decision(job, row, context)[1] == fen
    assert "步长金额" in _problems(text.replace("{to: 5万元,", "{to: 0万元,"))[0][1]


def test_tiers_a_department_decides_are_ceilings_and_not_in_no_application_items():
    text = LOOP_RULES.read_text(encoding="utf-8").replace(
        "          kind: maximum\n          formula: 50万元",
        "          kind: maximum\n          tiers:\n"
        "            - {when: {label: 亚洲首店, manual: true}, value: 50万元}\n"
        "            - {when: {label: 广州首店, manual: true}, value: 20万元}",
    )
    version = load_rule_file(text).items[1].versions[0]
    row = to_engine_row({"district": "越秀区"})
    decision = reference.decide(version, row, reference.Context(period=2025, as_of=date(2025, 12, 31)), "x")
    assert (decision.lead, decision.ceiling, decision.amount_fen) == (True, True, 50_000_000)
    assert (
        "请写 kind: maximum"
        in _problems(text.replace("kind: maximum\n          tiers", "kind: exact\n          tiers"))[0][1]
    )
    no_application = text.replace("    mode: 申报\n", "    mode: 免申即享\n")
    assert any("金额档次必须能由数据判断" in reason for _, reason in _problems(no_application))
