"""The vectorised engine: rule versions compiled to SQL and run in DuckDB over a whole registry.

One SELECT per item evaluates every condition of its rule version as a boolean column over all
enterprises at once, keeps the eligible ones, and writes for each eligible pair the amount in 分 and
the bitmask of failed conditions (bit i = leaf i of the rule version: an alternative of an OR that
did not hold, so the explanation of an eligible pair is complete). The SQL follows the reference
evaluation (``engine.reference``) exactly: NULL data fails a condition, formulas run in
DECIMAL(38,10) with every product rounded half up to 10 places (as ``Decimal.quantize`` does), and
rounding happens only where the rule says. Pure module: no Django import.

The registry table must have the columns of ``engine.attributes.ATTRIBUTES`` plus ``row_id`` (BIGINT);
empty strings must be stored as NULL. Grants already made are a table ``granted(uscc, item_code, year)``.
"""

from __future__ import annotations

import ast
import csv
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from yuexiu.policies.engine.attributes import ATTRIBUTES, TAGS
from yuexiu.policies.engine.rules import (
    Amount,
    Compare,
    Condition,
    Expr,
    Group,
    Item,
    Manual,
    NotGranted,
    RelativeDate,
    Rounding,
    Version,
)

D = "DECIMAL(38,10)"


def _quote(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _column(attr: str) -> str:
    return f'"{attr}"'


def _literal(kind: str, value: Any, period: int, as_of: date) -> str:
    if kind == "money":
        return f"CAST({_quote(value)} AS DECIMAL(18,2))"
    if kind == "int":
        return str(int(value))
    if kind == "date":
        day = value.resolve(period=period, as_of=as_of) if isinstance(value, RelativeDate) else value
        return f"DATE {_quote(day.isoformat())}"
    if kind == "bool":
        return "TRUE" if value else "FALSE"
    return _quote(value)


def leaf_sql(node: Condition, item_code: str, period: int, as_of: date, granted_items: set[str] | None = None) -> str:
    """One leaf condition as a SQL boolean that is never NULL. ``granted_items``: the item codes
    that have any grant at all (None: unknown); for another item "not granted" is simply TRUE."""
    if isinstance(node, Manual):
        return "TRUE"
    if isinstance(node, NotGranted):
        if granted_items is not None and item_code not in granted_items:
            return "TRUE"
        year = "" if node.within == "ever" else f" AND year = {int(period)}"
        granted = f"SELECT row_id FROM granted_rows WHERE item_code = {_quote(item_code)}{year}"
        return f"NOT COALESCE(row_id IN ({granted}), FALSE)"
    assert isinstance(node, Compare)
    kind = ATTRIBUTES[node.attr].type
    col = _column(node.attr)
    op = node.op
    if kind == "tags":
        values = node.value if isinstance(node.value, list) else [node.value]
        bits = sum(1 << TAGS.index(tag) for tag in values)
        test = {"has": f"= {bits}", "lacks": "= 0", "has_any": "<> 0", "has_none": "= 0"}[op]
        return f"COALESCE(({col} & {bits}) {test}, FALSE)"
    if op in ("prefix", "not_prefix"):
        prefixes = node.value if isinstance(node.value, list) else [node.value]
        by_length: dict[int, list[str]] = {}
        for prefix in prefixes:
            by_length.setdefault(len(prefix), []).append(prefix)
        # one set lookup per prefix length instead of one starts_with per prefix (31 for 制造业 13–43)
        hit = " OR ".join(
            f"substr({col}, 1, {length}) IN ({', '.join(_quote(p) for p in group)})"
            for length, group in by_length.items()
        )
        return f"COALESCE({'' if op == 'prefix' else 'NOT '}({hit}), FALSE)"
    if op in ("in", "not_in"):
        listed = ", ".join(_literal(kind, v, period, as_of) for v in node.value)
        return f"COALESCE({col} {'IN' if op == 'in' else 'NOT IN'} ({listed}), FALSE)"
    sql_op = "<>" if op == "!=" else op
    return f"COALESCE({col} {sql_op} {_literal(kind, node.value, period, as_of)}, FALSE)"


def tree_sql(node: Condition, leaf: Callable[[Condition], str]) -> str:
    if isinstance(node, Group):
        joiner = " AND " if node.kind == "all" else " OR "
        return "(" + joiner.join(tree_sql(child, leaf) for child in node.children) + ")"
    return leaf(node)


def _without_manual(node: Condition) -> bool | str:
    """The tree with every manual leaf FALSE, simplified: ``False`` when it can never hold (a manual
    leaf in the top-level ``all``: every pair passing the data is a lead), else the SQL of what remains
    (over the leaf columns ``c{i}``); ``True`` only for an empty group."""
    if isinstance(node, Manual):
        return False
    if not isinstance(node, Group):
        return f"c{node.index}"  # type: ignore[attr-defined]
    parts = [_without_manual(child) for child in node.children]
    if node.kind == "all":
        if any(part is False for part in parts):
            return False
        rest = [part for part in parts if part is not True]
        return "(" + " AND ".join(rest) + ")" if rest else True  # type: ignore[arg-type]
    if any(part is True for part in parts):
        return True
    rest = [part for part in parts if part is not False]
    return "(" + " OR ".join(rest) + ")" if rest else False  # type: ignore[arg-type]


def _scale(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def expr_sql(expr: Expr, series_var: str | None = None, *, wide: bool = False) -> tuple[str, int]:
    """(SQL, scale) of a formula. Narrow (default): DuckDB's own exact DECIMAL typing on 64-bit
    integers, the fast path; a product whose scale would pass 10 decimals is rounded half up to 10,
    as the reference does. An overflow there raises ``duckdb.OutOfRangeException`` and the caller
    reruns wide: everything in DECIMAL(38,10) (128-bit, about five times slower). Both give the
    reference's value."""

    def literal(value: Decimal) -> tuple[str, int]:
        scale = _scale(value)
        if wide or len(value.as_tuple().digits) > 18:
            return f"CAST({_quote(value)} AS {D})", 10
        return f"CAST({_quote(value)} AS DECIMAL(18,{scale}))", scale

    def ev(node: ast.AST) -> tuple[str, int]:
        if isinstance(node, ast.Constant):
            return literal(node.exact)
        if isinstance(node, ast.Name):
            column = series_var if ATTRIBUTES[node.id].type == "series" else _column(node.id)
            if wide:
                return f"CAST({column} AS {D})", 10
            return column, 2 if ATTRIBUTES[node.id].type == "money" else 0
        if isinstance(node, ast.UnaryOp):
            inner, scale = ev(node.operand)
            return f"(-{inner})", scale
        if isinstance(node, ast.BinOp):
            (left, left_scale), (right, right_scale) = ev(node.left), ev(node.right)
            if isinstance(node.op, ast.Mult):
                if wide or left_scale + right_scale > 10:
                    return f"CAST({left} * {right} AS {D})", 10
                return f"({left} * {right})", left_scale + right_scale
            return f"({left} {'+' if isinstance(node.op, ast.Add) else '-'} {right})", max(left_scale, right_scale)
        if isinstance(node, ast.Call):
            evaluated = [ev(a) for a in node.args]
            args = [a for a, _ in evaluated]
            nulls = " OR ".join(f"{a} IS NULL" for a in args)
            fn = "LEAST" if node.func.id == "min" else "GREATEST"  # type: ignore[attr-defined]
            return f"(CASE WHEN {nulls} THEN NULL ELSE {fn}({', '.join(args)}) END)", max(s for _, s in evaluated)
        raise TypeError(f"unexpected formula node {ast.dump(node)}")

    return ev(expr.tree)


def rounding_sql(value: str, rounding: Rounding, *, wide: bool = False) -> str:
    inverse = Decimal(1) / rounding.step
    kind = D if wide else f"DECIMAL(18,{_scale(inverse)})"
    scaled = f"({value} * CAST({_quote(inverse)} AS {kind}))"
    rounded = {
        "half_up": f"ROUND({scaled}, 0)",
        "down": f"FLOOR({scaled})",
        "up": f"CEIL({scaled})",
        "half_even": f"ROUND_EVEN({scaled}, 0)",
    }[rounding.mode]
    step_kind = D if wide else f"DECIMAL(18,{_scale(rounding.step)})"
    return f"({rounded} * CAST({_quote(rounding.step)} AS {step_kind}))"


def amount_sql(amount: Amount, item_code: str, period: int, as_of: date, *, wide: bool = False) -> str:
    """The amount in 分 as a BIGINT SQL expression (the same steps as ``reference.amount_fen``)."""
    zero = f"CAST(0 AS {D})" if wide else "0"
    if amount.formula is not None:
        value, _ = expr_sql(amount.formula, wide=wide)
    elif amount.per_month is not None:
        series = next(
            n.id
            for n in ast.walk(amount.per_month.tree)
            if isinstance(n, ast.Name) and n.id in ATTRIBUTES and ATTRIBUTES[n.id].type == "series"
        )
        month = rounding_sql(
            expr_sql(amount.per_month, series_var="m", wide=wide)[0], amount.per_month_rounding, wide=wide
        )  # type: ignore[arg-type]
        value = f"list_sum(list_transform({_column(series)}, lambda m: {month}))"
    else:
        leaf = lambda node: leaf_sql(node, item_code, period, as_of)  # noqa: E731
        cases = " ".join(f"WHEN {tree_sql(t.when, leaf)} THEN {expr_sql(t.value, wide=wide)[0]}" for t in amount.tiers)
        value = f"(CASE {cases} ELSE NULL END)"
    value = f"GREATEST(COALESCE({value}, {zero}), {zero})"
    if amount.rounding is not None:
        value = rounding_sql(value, amount.rounding, wide=wide)
    if amount.cap is not None:
        value = f"LEAST({value}, CAST({_quote(amount.cap)} AS DECIMAL(18,2)))"
    return f"CAST(ROUND({value}, 2) * 100 AS BIGINT)"


@dataclass(frozen=True)
class Job:
    """One item to evaluate: its number in the output, its code and the rule version in force."""

    number: int
    item: Item
    version: Version


def item_select(
    job: Job,
    *,
    period: int,
    as_of: date,
    table: str = "enterprises",
    wide: bool = False,
    granted_items: set[str] | None = None,
) -> str:
    """SELECT row_id, item, failed_mask, amount_fen, lead for the enterprises the data do not exclude
    from one item: manual leaves count as met for the filter; ``lead`` is TRUE where the tree holds
    only with them met (a department decides: see ``reference.Decision``)."""
    version, code = job.version, job.item.code
    leaves = version.leaves
    columns = ", ".join(
        f"{leaf_sql(leaf, code, period, as_of, granted_items)} AS c{leaf.index}"  # type: ignore[attr-defined]
        for leaf in leaves
    )
    mask = " | ".join(f"(CASE WHEN c{leaf.index} THEN 0 ELSE {1 << leaf.index} END)" for leaf in leaves) or "0"  # type: ignore[attr-defined]
    passes = tree_sql(version.eligibility, lambda node: f"c{node.index}")  # type: ignore[attr-defined]
    # A pair passing the data is a lead when the tree cannot hold without the manual leaves.
    decided = _without_manual(version.eligibility) if any(isinstance(leaf, Manual) for leaf in leaves) else True
    lead = "FALSE" if decided is True else "TRUE" if decided is False else f"NOT {decided}"
    amount = (
        amount_sql(version.amount, code, period, as_of, wide=wide)
        if version.amount is not None
        else "CAST(NULL AS BIGINT)"
    )
    return (
        f"SELECT row_id, {job.number} AS item, CAST({mask} AS BIGINT) AS failed_mask, {amount} AS amount_fen, "
        f"{lead} AS lead FROM (SELECT *, {columns} FROM {table}) WHERE {passes}"
    )


def plan(items: Sequence[Item], as_of: date) -> tuple[list[Job], list[Item]]:
    """Items with a rule version in force on ``as_of`` (numbered in order), and those without one
    (not yet or no longer in force, or the document's validity not recorded: the engine refuses to
    apply an expired policy or one whose expiry nobody has read)."""
    jobs, skipped = [], []
    for number, item in enumerate(items):
        version = item.version_on(as_of)
        if version is None:
            skipped.append(item)
        else:
            jobs.append(Job(number, item, version))
    return jobs, skipped


@dataclass(frozen=True)
class ItemResult:
    """One item's outcome in a run: eligible pairs with the sum of their amounts (分; for a
    "最高" item the sum of ceilings), and leads, counted apart and never given an amount."""

    pairs: int = 0
    amount_fen: int = 0
    leads: int = 0


@dataclass
class MatchResult:
    pairs_path: Path
    pairs: int  # eligible pairs (the data decide), leads excluded
    by_item: dict[int, ItemResult]  # item number -> its outcome
    skipped: list[str]  # codes of items not in force
    seconds: float
    leads: int = 0  # pairs a department decides (manual conditions decisive)


def ensure_granted(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TEMP TABLE IF NOT EXISTS granted (uscc VARCHAR, item_code VARCHAR, year INTEGER)")


def prepare_grants(con: duckdb.DuckDBPyConnection, table: str = "enterprises") -> set[str]:
    """Resolve the grants to the registry's row ids once per run (an integer semi-join per item is
    much cheaper than one on the 18-character code). Returns the item codes that have any grant."""
    ensure_granted(con)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE granted_rows AS SELECT e.row_id, g.item_code, g.year "
        f"FROM granted g JOIN {table} e USING (uscc)"
    )
    return {code for (code,) in con.execute("SELECT DISTINCT item_code FROM granted_rows").fetchall()}


def match(
    con: duckdb.DuckDBPyConnection,
    items: Sequence[Item],
    *,
    period: int,
    as_of: date,
    out_dir: Path,
    batch_size: int | None = 8,
    progress: Callable[[int, int], None] | None = None,
    table: str = "enterprises",
) -> MatchResult:
    """Evaluate every item in force on ``as_of`` over every row of ``table`` and write the pairs the
    data do not exclude to Parquet files under ``out_dir`` (columns row_id, item, failed_mask,
    amount_fen, lead): eligible pairs (lead FALSE) and leads (lead TRUE).

    ``batch_size`` items per statement (None: all in one; 8 measured fastest on 2 cores, see
    docs/benchmarks.md, and lets a run report progress); ``progress(done,
    total)`` is called after each batch. Returns counts and amounts per item number."""
    started = time.perf_counter()
    granted_items = prepare_grants(con, table)
    jobs, skipped = plan(items, as_of)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("pairs-*.parquet"):
        old.unlink()
    size = batch_size or max(len(jobs), 1)
    batches = [jobs[i : i + size] for i in range(0, len(jobs), size)] or [[]]
    for number, batch in enumerate(batches):
        if batch:
            target = out_dir / f"pairs-{number:04d}.parquet"
            for wide in (False, True):
                query = " UNION ALL ".join(
                    item_select(job, period=period, as_of=as_of, table=table, wide=wide, granted_items=granted_items)
                    for job in batch
                )
                try:
                    con.execute(f"COPY ({query}) TO {_quote(target)} (FORMAT PARQUET)")
                    break
                except duckdb.OutOfRangeException:
                    if wide:
                        raise
        if progress is not None:
            progress(sum(len(b) for b in batches[: number + 1]), len(jobs))
    pattern = _quote(out_dir / "pairs-*.parquet")
    by_item: dict[int, ItemResult] = {}
    if any(out_dir.glob("pairs-*.parquet")):
        for item, count, amount, leads in con.execute(
            "SELECT item, count(*) FILTER (WHERE NOT lead), COALESCE(sum(amount_fen) FILTER (WHERE NOT lead), 0), "
            f"count(*) FILTER (WHERE lead) FROM read_parquet({pattern}) GROUP BY item"
        ).fetchall():
            by_item[item] = ItemResult(count, int(amount), leads)
    return MatchResult(
        out_dir,
        sum(r.pairs for r in by_item.values()),
        by_item,
        [i.code for i in skipped],
        time.perf_counter() - started,
        sum(r.leads for r in by_item.values()),
    )


def write_registry_csv(rows: Iterable[tuple[int, dict[str, Any]]], path: Path) -> int:
    """Write ``(row_id, engine row)`` pairs as the CSV ``load_registry_csv`` reads (fast to write
    from Python, read in parallel by DuckDB). Returns the number of rows."""
    names = list(ATTRIBUTES)
    count = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row_id", *names])
        for row_id, row in rows:
            writer.writerow([row_id, *(_csv_cell(row[name]) for name in names)])
            count += 1
    return count


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        return "[" + ",".join("" if v is None else str(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def load_registry_csv(con: duckdb.DuckDBPyConnection, path: Path, table: str = "enterprises") -> None:
    """Create the registry table and fill it from a CSV written by ``write_registry_csv``."""
    create_registry_table(con, table)
    types = ", ".join(f"'{a.name}': '{'VARCHAR' if a.type == 'series' else a.sql_type}'" for a in ATTRIBUTES.values())
    select = ", ".join(
        f"CAST(NULLIF({_column(a.name)}, '') AS INTEGER[])" if a.type == "series" else _column(a.name)
        for a in ATTRIBUTES.values()
    )
    con.execute(
        f"INSERT INTO {table} SELECT row_id, {select} "
        f"FROM read_csv({_quote(path)}, header=true, columns={{'row_id': 'BIGINT', {types}}})"
    )


def create_registry_table(con: duckdb.DuckDBPyConnection, table: str = "enterprises") -> None:
    """An empty registry table with the engine's column types."""
    columns = ", ".join(f"{_column(a.name)} {a.sql_type}" for a in ATTRIBUTES.values())
    con.execute(f"CREATE OR REPLACE TABLE {table} (row_id BIGINT, {columns})")


def decide_rows(
    con: duckdb.DuckDBPyConnection, job: Job, *, period: int, as_of: date, table: str = "enterprises"
) -> dict[int, tuple[int, int | None, bool]]:
    """row_id → (failed_mask, amount_fen, lead) for the rows of one item the data do not exclude
    (tests compare it with the reference evaluation)."""
    prepare_grants(con, table)
    try:
        rows = con.execute(item_select(job, period=period, as_of=as_of, table=table)).fetchall()
    except duckdb.OutOfRangeException:
        rows = con.execute(item_select(job, period=period, as_of=as_of, table=table, wide=True)).fetchall()
    return {row_id: (mask, amount, lead) for row_id, _item, mask, amount, lead in rows}
