"""政策兑现 services: the library (rule files saved only when valid), the registry, matching runs in
the background, and the fulfilment loop of each candidate, each step in a transaction with row locks
and an audit event.

Loop (state enforced here, never in a page): pending_review → approved (the amount is committed in
the item's fund pool) | rejected → in_publicity (公示, period from rule ``policies.publicity_working_days``)
→ publicity_passed (period over, no upheld objection) → ordered (拨付单; the enterprise has confirmed
its account) → paid. An upheld objection returns the committed money to the pool.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import time as time_module
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import CharField, Count, F, Q, Sum
from django.db.models.functions import Greatest
from django.utils import timezone

from yuexiu.core import files, jobs, money
from yuexiu.core.audit import record_event
from yuexiu.core.calendar import get_calendar
from yuexiu.core.errors import Conflict, DomainError, NotFound, PermissionDeniedError
from yuexiu.core.jobs import LeaseLost
from yuexiu.core.models import AccountType, AuditOutcome, Organisation, OrganisationKind, OutboxMessage, Role, User
from yuexiu.core.rules import get_rule_value
from yuexiu.core.selectors import own_organisation_ids
from yuexiu.core.services import has_role
from yuexiu.core.tabular import TableError
from yuexiu.core.text_limits import TextLimit, check_lengths
from yuexiu.core.workdays import CalendarError, end_of_local_day, local_date
from yuexiu.policies import registry
from yuexiu.policies.engine import reference, sql
from yuexiu.policies.engine.attributes import ATTRIBUTES, mask_to_tags, to_engine_row
from yuexiu.policies.engine.rules import (
    OPEN_ENDED,
    VALIDITY_SOURCE_LIMIT,
    Item,
    NotGranted,
    PolicyRules,
    RuleFileError,
    Version,
    load_rule_file,
    parse_yaml,
    with_validity,
)
from yuexiu.policies.models import (
    HOLDS_FUNDS,
    BenefitItem,
    Candidate,
    CandidateStatus,
    Disbursement,
    Enterprise,
    FundPool,
    MatchRun,
    Mode,
    Objection,
    ObjectionOutcome,
    PolicyDocument,
    Publicity,
    RuleFile,
    RunStatus,
    Source,
)

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
RULES_DIR = DATA_DIR / "rules"
TESTS_DIR = DATA_DIR / "tests"
RUNS_DIR_NAME = "policy-runs"
PROGRESS_BATCH = 8  # items per statement in a run, so the page can show progress


def yuan(fen: int | None) -> str:
    """``123456`` (分) → ``"1,234.56元"``."""
    return "—" if fen is None else reference.format_yuan(Decimal(fen) / 100)


PHONE_RE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$")


def fen_from_text(text: str, *, label: str = "金额") -> int:
    """An amount of 人民币 a person typed, in 分: ``"60万元"``, ``"60 万"``, ``"1.5亿元"``,
    ``"600,000元"`` and, as the field says 元, ``"12,000.50"`` (full-width digits allowed). Read by
    the platform's one money reader (``yuexiu.core.money.read_yuan``): thousands separators in groups
    of three, at most 分, below 1 万亿元. Raises ``DomainError`` in Chinese for anything ambiguous."""
    try:
        return money.fen_of(money.read_yuan(text, label=label, unit="元"))
    except money.MoneyError as error:
        raise DomainError(f"{error.message}（如 450000、45万元 或 450,000元）。") from None


# What an illustration item is, in the words every page, the API and every refusal use.
ILLUSTRATION_NOTICE = "示例条款：用于演示匹配方式，不是真实政策，不可申报或兑现"
VALIDITY_PENDING = "有效期待核实"


def refuse_illustration(item: BenefitItem, step: str) -> None:
    """Raise ``DomainError`` (code ``illustration_item``) when ``item`` is an illustration: an invented
    clause is never approved, published (公示), notified, confirmed, ordered or paid, whoever asks
    (page, API, command, background job). ``step`` names the refused step: ``"审核通过"``."""
    if item.illustration:
        raise DomainError(f"“{item.name}”是{ILLUSTRATION_NOTICE}：不能{step}。", code="illustration_item")


# ------------------------------------------------------------------------------------ library


@lru_cache(maxsize=256)
def parse_rule_text(text: str) -> PolicyRules:
    """Parsed rules of a stored rule file (cached by text; stored files are always valid)."""
    return load_rule_file(text)


def _department(name: str) -> Organisation | None:
    if not name:
        return None
    return Organisation.objects.filter(Q(short_name=name) | Q(name=name), kind=OrganisationKind.DEPARTMENT).first()


@transaction.atomic
def load_policy_library(directory: Path = RULES_DIR) -> int:
    """Create the policies of the seed rule files that the database lacks (idempotent; a policy
    already in the database keeps its own revisions). Returns the number of rule files created."""
    created = 0
    for path in sorted(directory.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        rules = load_rule_file(text, path.name)
        if RuleFile.objects.filter(policy__code=rules.code).exists():
            continue
        _store_rule_file(rules, text, None)
        created += 1
    return created


def _store_rule_file(rules: PolicyRules, text: str, user: User | None) -> RuleFile:
    policy, _ = PolicyDocument.objects.update_or_create(
        code=rules.code,
        defaults={
            "number": rules.number,
            "title": rules.title,
            "issuer": rules.issuer,
            "effective": rules.effective,
            "expires": rules.expires,
            "expires_open": rules.expires_open,
            "validity_source": rules.validity_source,
            "source_url": rules.source_url,
            "confidence": rules.confidence,
            "illustration": rules.illustration,
            "notes": rules.notes,
            "other_district": rules.other_district,
        },
    )
    last = RuleFile.objects.select_for_update().filter(policy=policy).order_by("-revision").first()
    rule_file = RuleFile.objects.create(
        policy=policy,
        revision=(last.revision + 1) if last else 1,
        text=text,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        created_by=user,
    )
    kept = []
    for position, item in enumerate(rules.items):
        benefit, _ = BenefitItem.objects.update_or_create(
            code=item.code,
            defaults={
                "policy": policy,
                "name": item.name,
                "clause": item.clause,
                "mode": item.mode,
                "department_name": item.department,
                "organisation": _department(item.department),
                "fund_source": item.fund_source,
                "confidence": item.confidence or rules.confidence,
                "incomplete": item.incomplete,
                "illustration": item.illustration or rules.illustration,
                "beneficiaries": item.beneficiaries,
                "award_text": item.award_text,
                "notes": item.notes,
                "position": position,
            },
        )
        kept.append(benefit.pk)
        if item.budget is not None:
            _set_budget(benefit, int(item.budget * 100))
    removed = BenefitItem.objects.filter(policy=policy).exclude(pk__in=kept)
    used = removed.filter(candidates__isnull=False).distinct().first()
    if used is not None:
        raise Conflict(f"事项“{used.name}”（{used.code}）已有兑现记录，不能从规则文件中删除。")
    FundPool.objects.filter(item__in=removed).delete()
    removed.delete()
    return rule_file


def _set_budget(item: BenefitItem, budget_fen: int) -> None:
    pool = FundPool.objects.select_for_update().filter(item=item).first()
    if pool is None:
        FundPool.objects.create(item=item, budget_fen=budget_fen)
        return
    if pool.budget_fen == budget_fen:
        return
    if budget_fen < pool.committed_fen + pool.paid_fen:
        raise Conflict(f"“{item.name}”的预算不能低于已核定和已拨付的合计 {yuan(pool.committed_fen + pool.paid_fen)}。")
    pool.budget_fen = budget_fen
    pool.save(update_fields=["budget_fen"])


def save_rule_file(*, text: str, user: User, policy_code: str | None = None) -> RuleFile:
    """Save a new revision of a policy's rule file.

    Raises ``RuleFileError`` (every problem with its line) when the text is not valid — nothing is
    saved then; ``PermissionDeniedError`` for a user who is not a 政策兑现专员; ``DomainError`` when
    the file names another policy than the one being edited; ``Conflict`` when it drops an item that
    already has candidates or sets a budget below what is committed."""
    if not has_role(user, Role.POLICY_OFFICER):
        raise PermissionDeniedError("只有政策兑现专员可以修改规则。")
    check_lengths(("规则文件", text, TextLimit.RULE_FILE))
    rules = load_rule_file(text)
    if policy_code and rules.code != policy_code:
        raise DomainError(f"规则文件的 policy.code 是“{rules.code}”，与正在编辑的政策“{policy_code}”不一致。")
    with transaction.atomic():
        current = RuleFile.objects.filter(policy__code=rules.code).order_by("-revision").first()
        if current is not None and current.text == text:
            raise DomainError("规则没有改动，未生成新版本。")
        _check_rule_authority(rules, text, current, user)
        rule_file = _store_rule_file(rules, text, user)
        record_event(
            action="policies.rules_saved",
            actor=user,
            target=rule_file,
            changes={"revision": rule_file.revision, "sha256": rule_file.sha256},
        )
    return rule_file


def _raw_parts(text: str) -> tuple[Any, dict[str, Any]]:
    """(the policy header, item code → the item's mapping) of a rule file, as written."""
    data = parse_yaml(text)
    items = {str(raw.get("code")): raw for raw in data.get("items") or [] if isinstance(raw, dict)}
    return data.get("policy"), items


def _check_rule_authority(rules: PolicyRules, text: str, current: RuleFile | None, user: User) -> None:
    """An officer changes only the rules of items their departments handle. Compared with the
    revision in force: every item added, removed or changed must be theirs (before and after), and a
    change to the policy header needs every item of the file to be theirs; an item code of another
    policy cannot be taken over; a department must be one of the district's. Items of other
    departments may share the file and stay as they are."""
    own = own_organisation_ids(user)
    old_header, old_items = _raw_parts(current.text) if current is not None else (None, {})
    new_header, new_items = _raw_parts(text)
    changed = {code for code in old_items.keys() | new_items.keys() if old_items.get(code) != new_items.get(code)}
    if current is None or old_header != new_header:
        changed |= set(new_items) | set(old_items)
    existing = {item.code: item for item in BenefitItem.objects.filter(code__in=changed).select_related("policy")}
    for code in sorted(changed):
        item = existing.get(code)
        if item is not None and item.policy.code != rules.code:
            raise Conflict(f"事项编码“{code}”属于政策“{item.policy.code}”，不能在本规则文件中使用。")
        if item is not None and item.organisation_id not in own:
            raise PermissionDeniedError(
                f"“{item.name}”由{item.department_name or '外区或上级部门'}管理，您无权修改其规则。"
            )
    for item in rules.items:
        if item.code not in changed:
            continue
        organisation = _department(item.department)
        if organisation is None:
            raise DomainError(
                f"“{item.name}”的主管部门“{item.department}”不是本区单位（请用单位简称，如 区科工商信局）。"
            )
        if organisation.pk not in own:
            raise PermissionDeniedError(f"“{item.name}”的主管部门是{item.department}，您无权为其设定规则。")


def current_rule_files() -> list[RuleFile]:
    latest: dict[int, RuleFile] = {}
    for rule_file in RuleFile.objects.select_related("policy").order_by("policy_id", "-revision"):
        latest.setdefault(rule_file.policy_id, rule_file)
    return list(latest.values())


def current_library() -> dict[str, tuple[RuleFile, Item]]:
    """Item code → (the rule file revision in force, the parsed item), for every item."""
    library: dict[str, tuple[RuleFile, Item]] = {}
    for rule_file in current_rule_files():
        for item in parse_rule_text(rule_file.text).items:
            library[item.code] = (rule_file, item)
    return library


VALIDITY_YEARS = (1949, 2100)


def record_validity(
    *, policy_code: str, user: User, effective: date | None, expires: date | None, open_ended: bool, source: str
) -> RuleFile:
    """Record a policy document's validity as read in the document itself: the day it takes effect,
    and the day it expires or ``open_ended`` (the document sets no expiry: 长期有效). ``source`` cites
    where it was read (文号 and clause, e.g. "穗府办规〔2025〕13号 第十二条：自印发之日起施行，有效期5年"),
    up to 300 characters. A document whose dates the source did not print is matched on no day until
    this is done (docs/policy-rules.md, "Validity").

    The rule file gets a new revision with ``effective``/``expires``/``validity_source`` set (so every
    later decision names the revision it was made under), audited as ``policies.validity_recorded``.
    Raises ``PermissionDeniedError`` (not a 政策兑现专员, or an item of the document is another
    department's), ``NotFound``, ``DomainError`` (another district's policy, a missing or impossible
    date, no source, rule versions dated outside the validity; nothing is saved then)."""
    _check_officer(user)
    policy = PolicyDocument.objects.filter(code=policy_code).first()
    if policy is None:
        raise NotFound("政策文件不存在。")
    if policy.other_district:
        raise DomainError(f"“{policy.title}”是{policy.other_district}的政策，仅供参考，不在本平台核实有效期。")
    source = " ".join(source.split())
    problems = []
    if effective is None:
        problems.append("请填写生效日期（文件规定的施行日期）")
    if expires is None and not open_ended:
        problems.append("请填写失效日期；文件未规定失效日期的，请勾选“长期有效”")
    if expires is not None and open_ended:
        problems.append("已填写失效日期，不能同时勾选“长期有效”")
    lowest, highest = VALIDITY_YEARS
    for label, day in (("生效日期", effective), ("失效日期", expires)):
        if day is not None and not lowest <= day.year <= highest:
            problems.append(f"{label}应在 {lowest}—{highest} 年之间")
    if effective is not None and expires is not None and expires < effective:
        problems.append("失效日期早于生效日期")
    if len(source) < 4:
        problems.append("请写明依据：文号和规定有效期的条款或原文（如“第十二条：自印发之日起施行，有效期5年”）")
    if problems or effective is None:  # (effective is None is always among the problems)
        raise DomainError("有效期未记录：" + "；".join(problems) + "。", code="invalid_validity")
    check_lengths(("有效期依据", source, VALIDITY_SOURCE_LIMIT))
    current = RuleFile.objects.filter(policy=policy).order_by("-revision").first()
    if current is None:
        raise NotFound(f"“{policy.title}”没有规则文件。")
    try:
        text = with_validity(current.text, effective=effective, expires=expires, source=source)
        if text == current.text:
            raise DomainError("有效期和依据与已记录的相同，未生成新版本。")
        with transaction.atomic():
            rule_file = save_rule_file(text=text, user=user, policy_code=policy.code)
            record_event(
                action="policies.validity_recorded",
                actor=user,
                target=policy,
                changes={
                    "effective": str(effective),
                    "expires": OPEN_ENDED if open_ended else str(expires),
                    "source": source,
                    "revision": rule_file.revision,
                    "before": {"effective": str(policy.effective or ""), "expires": str(policy.expires or "")},
                },
            )
    except RuleFileError as error:
        reasons = "；".join(reason for _, reason in error.problems)
        raise DomainError(f"有效期未记录：与规则文件不一致（{reasons}），请在规则编辑页调整。") from None
    return rule_file


def list_validity_pending(user: User) -> list[PolicyDocument]:
    """Documents of the officer's departments whose validity is not recorded (not matched until it
    is): Yuexiu-applicable, not illustrations, every item the officer's (as recording needs)."""
    own = own_organisation_ids(user)
    pending = (
        PolicyDocument.objects.filter(unrecorded_validity(""), other_district="", illustration=False)
        .filter(items__organisation_id__in=own)
        .distinct()
        .order_by("code")
    )
    foreign = set(
        BenefitItem.objects.filter(policy__in=pending)
        .exclude(organisation_id__in=own)
        .values_list("policy_id", flat=True)
    )
    return [policy for policy in pending if policy.pk not in foreign]


def rules_of(item: BenefitItem) -> tuple[RuleFile, Item]:
    try:
        return current_library()[item.code]
    except KeyError:
        raise NotFound(f"事项“{item.name}”没有生效的规则文件。") from None


# ----------------------------------------------------------------------------------- registry


REGISTRY_FIELDS = [name for name in ATTRIBUTES if name not in ("uscc",)]


def snapshot_of(values: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe copy of a registry record's attributes (the data a decision used)."""
    out: dict[str, Any] = {}
    for name in ATTRIBUTES:
        value = values.get(name)
        if isinstance(value, Decimal | date):
            value = str(value)
        out[name] = value
    return out


def enterprise_values(enterprise: Enterprise) -> dict[str, Any]:
    return {name: getattr(enterprise, name) for name in ATTRIBUTES}


@transaction.atomic
def import_registry(*, data: bytes, filename: str, user: User) -> dict[str, Any]:
    """Import an Excel/CSV registry file matched on the 统一社会信用代码 (never on the name).

    Returns ``{"created": n, "updated": n, "name_clashes": [...]}``. Raises ``DomainError`` with the
    row problems (Chinese, every problem of every row) — then nothing is imported."""
    if not has_role(user, Role.POLICY_OFFICER, Role.DATA_OFFICER):
        raise PermissionDeniedError("只有数据专员或政策兑现专员可以导入企业数据。")
    try:
        result = registry.read_registry(data)
    except TableError as error:
        raise DomainError(f"无法导入：{error.message}") from None
    if result.errors:
        lines = [f"第{e.row}行 {e.column}：{e.message}" for e in result.errors[:200]]
        raise DomainError(
            "导入文件有错误，未导入任何数据：\n" + "\n".join(lines), details={"errors": len(result.errors)}
        )
    existing = dict(Enterprise.objects.values_list("name", "uscc"))
    clashes = [c.message for c in result.name_clashes + registry.name_clashes_with(existing, result)]
    # Only the columns the file has change a stored enterprise: a file without 营业收入 keeps it.
    given = [name for name in result.columns if name in REGISTRY_FIELDS]
    if "registered_capital" in given and "capital_currency" not in given:
        given.append("capital_currency")  # read from the same cell: "800(万香港元)"
    created = updated = 0
    for row in result.rows:
        values: dict[str, Any] = {}
        for name in given:
            value = row.get(name)
            if value is None and isinstance(Enterprise._meta.get_field(name), CharField):
                value = ""
            values[name] = [] if name == "tags" and value is None else value
        values["source"] = filename[:200]
        values["is_synthetic"] = False
        _, was_created = Enterprise.objects.update_or_create(uscc=row["uscc"], defaults=values)
        created += was_created
        updated += not was_created
    record_event(
        action="policies.registry_imported",
        actor=user,
        changes={"file": filename, "created": created, "updated": updated, "name_clashes": len(clashes)},
    )
    return {"created": created, "updated": updated, "name_clashes": clashes}


def generate_registry(n: int, *, seed: int = 2024, year: int | None = None, batch: int = 5000) -> int:
    """Add ``n`` synthetic enterprises (names end in （模拟）, ``is_synthetic``) for demos and
    benchmarks. Returns the number created (existing codes are skipped)."""
    year = year or timezone.localdate().year  # the register is taken this year: 上年度 = last year
    created = 0
    rows = registry.generate_synthetic(n, seed=seed, year=year)
    while True:
        chunk = []
        for row in rows:
            chunk.append(_enterprise_from_row(row))
            if len(chunk) >= batch:
                break
        if not chunk:
            return created
        before = Enterprise.objects.count()
        Enterprise.objects.bulk_create(chunk, ignore_conflicts=True, batch_size=1000)
        created += Enterprise.objects.count() - before


def _enterprise_from_row(row: dict[str, Any]) -> Enterprise:
    values = {}
    for name in ATTRIBUTES:
        value = row.get(name)
        field = Enterprise._meta.get_field(name)
        if value is None and isinstance(field, CharField):
            value = ""
        values[name] = value
    values["tags"] = list(row.get("tags") or [])
    return Enterprise(**values, is_synthetic=bool(row.get("is_synthetic")), source="模拟数据（仅供演示和压力测试）")


# ------------------------------------------------------------------------------------- runs


def _check_officer(user: User) -> None:
    if not has_role(user, Role.POLICY_OFFICER):
        raise PermissionDeniedError("只有政策兑现专员可以办理政策兑现。")


STALE_RUN = timedelta(minutes=15)  # a run with no progress for this long lost its worker


def create_run(*, user: User, period: int, as_of: date) -> MatchRun:
    """Create a matching run (status queued) after the checks every way of starting one shares.

    Raises ``PermissionDeniedError`` (not a 政策兑现专员), ``DomainError`` (the as-of date is not in
    the period year), ``Conflict`` (a run is already queued or running). A run with no progress for
    ``STALE_RUN`` is marked failed first: its worker was stopped, and it must not block matching."""
    _check_officer(user)
    if not 2000 <= period <= 2100:
        raise DomainError("所属年度应为 2000–2100 之间的年份。")
    if as_of.year != period:
        raise DomainError(f"匹配基准日 {as_of} 不在所属年度 {period} 年内。")
    if as_of > timezone.localdate():
        raise DomainError("匹配基准日不能晚于今天：只能按已有的数据判断。")
    stale = timezone.now() - STALE_RUN
    MatchRun.objects.filter(status__in=(RunStatus.QUEUED, RunStatus.RUNNING), updated_at__lt=stale).update(
        status=RunStatus.FAILED,
        stage="失败",
        error="后台任务中断（超过 15 分钟无进展），已自动结束。",
        finished_at=timezone.now(),
    )  # committed on its own: a refusal below must not bring a dead run back
    with transaction.atomic():
        busy = MatchRun.objects.select_for_update().filter(status__in=(RunStatus.QUEUED, RunStatus.RUNNING)).first()
        if busy is not None:
            raise Conflict(f"匹配批次 {busy.pk} 尚未完成，请等待其完成后再发起。")
        run = MatchRun.objects.create(period=period, as_of=as_of, started_by=user, stage="等待后台任务")
        record_event(
            action="policies.run_started", actor=user, target=run, changes={"period": period, "as_of": str(as_of)}
        )
    return run


def start_run(*, user: User, period: int, as_of: date) -> MatchRun:
    """Create a run (see ``create_run``) and hand it to the background worker."""
    run = create_run(user=user, period=period, as_of=as_of)
    enqueue_run(run.pk)
    return run


def enqueue_run(run_id: int) -> None:
    """Hand the run to the background worker (django-q2)."""
    from django_q.tasks import async_task

    async_task("yuexiu.policies.tasks.execute_run", run_id, task_name=f"政策匹配批次 {run_id}")


def _progress(run: MatchRun, progress: int, stage: str, token: str) -> None:
    """Show ``progress`` (%) and ``stage`` to officers and renew the lease of execution ``token``.

    The bar never moves back: an execution that took over a stopped one starts again from the
    snapshot, and its stage says so (第 2 次执行) while the bar waits until it is past the point the
    stopped one reached. Raises ``LeaseLost`` when another execution holds the run now."""
    prefix = f"第 {run.attempts} 次执行（上次执行中断）：" if run.attempts > 1 else ""
    now = timezone.now()
    held = MatchRun.objects.filter(pk=run.pk, claimed_by=token, status=RunStatus.RUNNING).update(
        progress=Greatest(F("progress"), progress), stage=(prefix + stage)[:100], heartbeat_at=now, updated_at=now
    )
    if not held:
        raise LeaseLost(f"matching run {run.pk} is held by another execution")


def _claim_run(run_id: int, token: str) -> MatchRun | None:
    """Claim run ``run_id`` for execution ``token``: a queued run, or a running one whose lease went
    silent for ``JOB_LEASE_SECONDS`` (its worker was killed; django-q2 delivered the task again).

    One conditional UPDATE, so two executions never both win (PostgreSQL re-checks the condition
    after the other's commit; SQLite writes one at a time). Returns the claimed run, or None when the
    run is finished or failed (nothing to do). A run whose lease is still live is waited for until it
    finishes or its lease goes silent, at most ``JOB_LEASE_SECONDS`` and a little more."""
    deadline = timezone.now() + timedelta(seconds=jobs.lease_seconds() + 5)
    while True:
        now = timezone.now()
        silent = Q(heartbeat_at__lt=jobs.stale_before(now)) | Q(heartbeat_at__isnull=True)  # or from before leases
        claimable = Q(status=RunStatus.QUEUED) | (Q(status=RunStatus.RUNNING) & silent)
        claimed = MatchRun.objects.filter(claimable, pk=run_id).update(
            status=RunStatus.RUNNING,
            claimed_by=token,
            heartbeat_at=now,
            attempts=F("attempts") + 1,
            updated_at=now,
        )
        run = MatchRun.objects.get(pk=run_id)
        if claimed:
            return run
        if run.status != RunStatus.RUNNING or now >= deadline:
            return None  # finished, failed, or (past the deadline) another live execution has it
        time_module.sleep(0.5)  # another execution's lease is live: it finishes or goes silent


def execute_run(run_id: int) -> MatchRun:
    """Run a queued matching run: snapshot the registry to Parquet, evaluate every item in force in
    DuckDB, write 免申即享 candidates (with the data each used) and notify the enterprises.

    Safe to call again for the same run, and from several job workers at once: a finished run is
    returned unchanged; a running one is taken over only when its lease went silent (its worker was
    stopped; see ``_claim_run``); the candidates, notices, totals and the audit event are written in
    one transaction that first checks this execution still holds the lease, so a stopped execution
    leaves no candidate behind and the run finishes exactly once."""
    token = jobs.execution_token()
    run = _claim_run(run_id, token)
    if run is None:
        return MatchRun.objects.get(pk=run_id)
    if run.attempts > 1:
        logger.warning("matching run %s: attempt %s takes over a stopped execution", run.pk, run.attempts)
    try:
        _execute(run, token)
    except LeaseLost:
        logger.warning("matching run %s: lease lost to another execution, nothing written", run.pk)
    except Exception as error:  # noqa: BLE001 - recorded on the run, shown to staff
        logger.exception("matching run %s failed", run.pk)
        reason = (
            error.message
            if isinstance(error, DomainError)
            else "匹配引擎内部错误，详情已写入服务器日志，请联系系统管理员。"
        )
        MatchRun.objects.filter(pk=run.pk, claimed_by=token, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED, error=reason, finished_at=timezone.now(), stage="失败", updated_at=timezone.now()
        )
    run.refresh_from_db()
    return run


def _registry_rows(run: MatchRun, token: str, page_size: int = 5000) -> Iterator[tuple[int, dict[str, Any]]]:
    """The registry as ``(row_id, engine row)``, read in pages of ``page_size`` enterprises by primary
    key, renewing the lease between pages. No query is open while the lease is written: on SQLite a
    connection still reading cannot write once another connection has written (a page's session)."""
    names = list(ATTRIBUTES)
    last = 0
    done = 0
    while True:
        page = list(Enterprise.objects.filter(pk__gt=last).order_by("pk").values("pk", *names)[:page_size])
        if not page:
            return
        for values in page:
            yield values["pk"], to_engine_row(values)
        last = page[-1]["pk"]
        done += len(page)
        _progress(run, 5, f"正在导出企业数据快照（{done} 家）", token)


def _execute(run: MatchRun, token: str) -> None:
    runs_dir = Path(settings.VAR_DIR) / RUNS_DIR_NAME / str(run.pk)
    run_dir = runs_dir / f"attempt-{run.attempts}"  # each execution its own files: none shares a half-written one
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    _progress(run, 0, "导出企业数据快照", token)
    csv_path = run_dir / "enterprises.csv"
    exported = sql.write_registry_csv(_registry_rows(run, token), csv_path)
    _progress(run, 10, f"已导出 {exported} 家企业，正在编译规则", token)
    parquet = run_dir / "enterprises.parquet"
    con = duckdb.connect()
    try:
        sql.load_registry_csv(con, csv_path)
        con.execute(f"COPY enterprises TO '{parquet}' (FORMAT PARQUET)")
        csv_path.unlink()
        # Kept in the snapshots storage before any candidate is written: a storage refusing it fails
        # the run with nothing saved (core.files.StorageFailure, Chinese).
        snapshot_name = files.publish_snapshot(parquet, parquet.relative_to(Path(settings.VAR_DIR)).as_posix())
        sql.ensure_granted(con)
        granted = list(
            Candidate.objects.filter(status__in=HOLDS_FUNDS).values_list("enterprise__uscc", "item__code", "period")
        )
        if granted:
            con.executemany("INSERT INTO granted VALUES (?, ?, ?)", granted)
        library = current_library()
        # Other districts' policies are reference material: never matched against Yuexiu's enterprises.
        codes = [code for code, (rule_file, _) in library.items() if not _other_district(rule_file)]
        items = [library[c][1] for c in codes]
        jobs_in_force, skipped = sql.plan(items, run.as_of)
        _progress(run, 15, f"正在匹配 {len(jobs_in_force)} 个有效事项", token)

        def progress(done: int, total: int) -> None:
            _progress(run, 15 + int(65 * done / max(total, 1)), f"已匹配 {done}/{total} 个事项", token)

        result = sql.match(
            con,
            items,
            period=run.period,
            as_of=run.as_of,
            out_dir=run_dir,
            batch_size=PROGRESS_BATCH,
            progress=progress,
        )
        _progress(run, 82, "正在写入免申即享候选名单", token)
        benefit = {b.code: b for b in BenefitItem.objects.filter(code__in=codes)}
        by_item = {}
        for number, code in enumerate(codes):
            outcome = result.by_item.get(number, sql.ItemResult())
            rules = parse_rule_text(library[code][0].text)
            by_item[code] = {
                "pairs": outcome.pairs,  # eligible: the data decide
                "amount_fen": outcome.amount_fen,  # of the eligible pairs only; leads have no amount here
                "leads": outcome.leads,  # a department decides: counted apart, never summed
                "mode": library[code][1].mode,
                "in_force": code not in result.skipped,
                "ceiling": _is_ceiling(library[code][1], run.as_of),
                # Illustrations are matched as a demonstration only: shown apart, never counted with
                # the real pairs, never made candidates, never notified.
                "illustration": library[code][1].illustration or rules.illustration,
                "validity_recorded": rules.validity_recorded,
            }
        real = [row for row in by_item.values() if not row["illustration"]]
        digest = hashlib.sha256(parquet.read_bytes()).hexdigest()
        with transaction.atomic():
            # The fencing check: the run row stays locked until the results are committed, so an
            # execution taking over waits for this one and then finds the run finished.
            held = MatchRun.objects.select_for_update().filter(pk=run.pk, claimed_by=token, status=RunStatus.RUNNING)
            if not held.exists():
                raise LeaseLost(f"matching run {run.pk} is held by another execution")
            created = _write_candidates(con, run, result, codes, library, benefit, granted)
            MatchRun.objects.filter(pk=run.pk).update(
                updated_at=timezone.now(),
                status=RunStatus.DONE,
                progress=100,
                stage="已完成",
                enterprises=exported,
                items=sum(row["in_force"] for row in real),
                pairs=sum(row["pairs"] for row in real),
                leads=sum(row["leads"] for row in real),
                candidates=created,
                by_item=by_item,
                snapshot_path=snapshot_name,  # a name in the "snapshots" storage
                snapshot_sha256=digest,
                engine_seconds=round(result.seconds, 3),
                finished_at=timezone.now(),
                heartbeat_at=timezone.now(),
            )
            record_event(
                action="policies.run_finished",
                actor=run.started_by,
                target=run,
                changes={
                    "enterprises": exported,
                    "pairs": sum(row["pairs"] for row in real),
                    "leads": sum(row["leads"] for row in real),
                    "demonstration_pairs": result.pairs - sum(row["pairs"] for row in real),
                    "candidates": created,
                    "snapshot_sha256": digest,
                    "attempts": run.attempts,
                },
            )
    finally:
        con.close()
    if not files.is_local_snapshot(snapshot_name, parquet):
        shutil.rmtree(runs_dir, ignore_errors=True)  # working copies: the snapshot is in object storage
        return
    for stopped in runs_dir.glob("attempt-*"):  # what stopped executions left behind
        if stopped != run_dir:
            shutil.rmtree(stopped, ignore_errors=True)


def _other_district(rule_file: RuleFile) -> str:
    """The other district a rule file's policy belongs to ("" when it applies to Yuexiu)."""
    return parse_rule_text(rule_file.text).other_district


def _is_ceiling(item: Item, on: date) -> bool:
    version = item.version_on(on)
    return version is not None and version.amount is not None and version.amount.kind == "maximum"


def _write_candidates(con, run, result, codes, library, benefit, granted) -> int:
    no_application = [
        n
        for n, c in enumerate(codes)
        if library[c][1].mode == Mode.NO_APPLICATION and c in benefit and not benefit[c].illustration
    ]
    if not no_application or not result.pairs:
        return 0
    pattern = f"{result.pairs_path}/pairs-*.parquet"
    names = list(ATTRIBUTES)
    rows = con.execute(
        f"SELECT p.item, p.failed_mask, p.amount_fen, e.row_id, {', '.join('e.' + chr(34) + n + chr(34) for n in names)} "  # noqa: E501
        f"FROM read_parquet('{pattern}') p JOIN enterprises e USING (row_id) "
        f"WHERE p.item IN ({', '.join(map(str, no_application))}) AND NOT p.lead ORDER BY p.item, e.row_id"
    ).fetchall()
    granted_years: dict[tuple[str, str], list[int]] = {}
    for uscc, code, year in granted:
        granted_years.setdefault((uscc, code), []).append(year)
    created = 0
    batch: list[Candidate] = []
    for row in rows:
        number, mask, amount, row_id = row[:4]
        if amount is not None and amount <= 0:
            continue  # eligible but nothing to grant (a growth award with no growth): no candidate
        values = dict(zip(names, row[4:], strict=True))
        values["tags"] = mask_to_tags(values["tags"] or 0)
        code = codes[number]
        snapshot = snapshot_of(values)
        snapshot["granted_years"] = sorted(granted_years.get((values["uscc"], code), []))
        batch.append(
            Candidate(
                item=benefit[code],
                enterprise_id=row_id,
                period=run.period,
                source=Source.MATCH,
                run=run,
                rule_file=library[code][0],
                as_of=run.as_of,
                snapshot=snapshot,
                failed_mask=mask,
                engine_amount_fen=amount,
            )
        )
        if len(batch) >= 2000:
            created += _insert_candidates(batch)
            batch = []
    created += _insert_candidates(batch)
    _notify_matches(run)
    return created


def _insert_candidates(batch: list[Candidate]) -> int:
    if not batch:
        return 0
    before = Candidate.objects.count()
    Candidate.objects.bulk_create(batch, ignore_conflicts=True, batch_size=1000)
    return Candidate.objects.count() - before


def _notify_matches(run: MatchRun) -> None:
    """越秀商家-style notice of new matches to the enterprise's own accounts (one per candidate)."""
    accounts = User.objects.filter(account_type=AccountType.ENTERPRISE, enterprise_verified=True)
    usccs = accounts.exclude(enterprise_uscc="").values("enterprise_uscc")
    candidates = list(Candidate.objects.filter(run=run, enterprise__uscc__in=usccs).select_related("item"))
    _notify(
        candidates,
        "policy_match",
        lambda c: f"政策匹配：{c.item.name}",
        lambda c: (
            f"贵企业经数据比对符合“{c.item.name}”（免申即享），测算 {yuan(c.engine_amount_fen)}，待主管部门审核。"
        ),
    )


def _notify(
    candidates: list[Candidate], topic: str, subject: Callable[[Candidate], str], body: Callable[[Candidate], str]
) -> None:
    """Queue one notice per candidate and enterprise account, linking to the candidate's page. Never
    for an illustration item: an invented clause is not announced to an enterprise as money."""
    candidates = [c for c in candidates if not c.item.illustration]
    users = _enterprise_users(c.enterprise_id for c in candidates)
    for candidate in candidates:
        for account in users.get(candidate.enterprise_id, []):
            queue_message(
                account,
                topic=topic,
                subject=subject(candidate),
                body=body(candidate),
                link=f"/policies/mine/{candidate.pk}/",
                key=f"{topic}:{candidate.pk}:{account.pk}",
            )


def queue_message(user: User, *, topic: str, subject: str, body: str, link: str, key: str) -> None:
    """Queue a notice in the outbox once (the key makes a retry harmless)."""
    OutboxMessage.objects.get_or_create(
        dedupe_key=key,
        defaults={
            "recipient": user,
            "phone": user.phone,
            "topic": topic,
            "subject": subject[:200],
            "body": body[:500],
            "link": link,
        },
    )


# ------------------------------------------------------------------------------- explanation


@dataclass
class Explanation:
    decision: reference.Decision
    version: Version | None
    item: Item
    reproduced: bool  # the stored decision is what the rules and the snapshot give today
    amount_inputs: list[tuple[str, str]] = field(default_factory=list)  # what the amount rule read


def _explanation(item: Item, version: Version | None, row: dict[str, Any], context: reference.Context) -> Explanation:
    if version is None:
        return Explanation(reference.Decision(False, None, 0, []), None, item, False)
    decision = reference.decide(version, row, context, item.code)
    return Explanation(decision, version, item, True, reference.amount_inputs(version.amount, row))


def explain(candidate: Candidate) -> Explanation:
    """Every condition of the candidate's decision with the value seen, from the data snapshot and
    the rule revision it was decided under; ``reproduced`` is False when that no longer gives the
    stored decision (a sign of tampering or of an engine change, shown to the reviewer)."""
    rules = parse_rule_text(candidate.rule_file.text)
    item = next(i for i in rules.items if i.code == candidate.item.code)
    snapshot = dict(candidate.snapshot)
    years = set(snapshot.pop("granted_years", []) or [])
    context = reference.Context(period=candidate.period, as_of=candidate.as_of, granted={item.code: years})
    # The version the candidate was decided under (whether it still applies is review's matter).
    explanation = _explanation(item, item.version_covering(candidate.as_of), to_engine_row(snapshot), context)
    decision = explanation.decision
    explanation.reproduced = (
        decision.passes_data  # an application may be a lead: the reviewer decides its manual conditions
        and decision.failed_mask == candidate.failed_mask
        and decision.amount_fen == candidate.engine_amount_fen
    )
    return explanation


def precheck(enterprise: Enterprise, item: BenefitItem, *, on: date | None = None) -> Explanation:
    """The item's decision for the enterprise's current registry data and today's grants (the 申报
    pre-check, the "why not" of My policies, and the reviewer's check of a candidate against data
    that changed since the match)."""
    return precheck_all(enterprise, [item], on=on)[item.pk]


def precheck_all(
    enterprise: Enterprise, items: Iterable[BenefitItem], *, on: date | None = None
) -> dict[int, Explanation]:
    """``precheck`` for many items at once: item id → Explanation, with the library, the grants and
    the enterprise's row read once (My policies checks every item)."""
    on = on or timezone.localdate()
    library = current_library()
    held: dict[str, set[int]] = {}
    for code, period in Candidate.objects.filter(enterprise=enterprise, status__in=HOLDS_FUNDS).values_list(
        "item__code", "period"
    ):
        held.setdefault(code, set()).add(period)
    row = to_engine_row(enterprise_values(enterprise))
    out = {}
    for item in items:
        if item.code not in library:
            raise NotFound(f"事项“{item.name}”没有生效的规则文件。")
        rules_item = library[item.code][1]
        context = reference.Context(period=on.year, as_of=on, granted={item.code: held.get(item.code, set())})
        out[item.pk] = _explanation(rules_item, rules_item.version_on(on), row, context)
    return out


def amount_kind(candidate: Candidate) -> str:
    """``"exact"`` or ``"maximum"`` (a ceiling the review decides) under the candidate's rules."""
    rules = parse_rule_text(candidate.rule_file.text)
    item = next(i for i in rules.items if i.code == candidate.item.code)
    version = item.version_covering(candidate.as_of)
    return version.amount.kind if version is not None and version.amount is not None else ""


# ------------------------------------------------------------------------------------ the loop


def _lock(candidate_id: int, version: int | None) -> Candidate:
    candidate = (
        Candidate.objects.select_for_update(of=("self",))
        .select_related("item", "enterprise")
        .filter(pk=candidate_id)
        .first()
    )
    if candidate is None:
        raise NotFound("兑现候选不存在。")
    if version is not None and candidate.version != version:
        raise Conflict("该记录已被他人处理，请刷新后查看最新状态。")
    return candidate


def can_handle(user: User, item: BenefitItem) -> bool:
    """A 政策兑现专员 handles the items of the departments they answer for; items with no department
    in the district are handled by the bureau's officers."""
    if not has_role(user, Role.POLICY_OFFICER):
        return False
    # An item of another district or of a body outside the district has no department here: its
    # rules are kept for reference and matching, and it is handled where it was issued.
    return item.organisation_id is not None and item.organisation_id in own_organisation_ids(user)


def _check_handles(user: User, item: BenefitItem) -> None:
    if not can_handle(user, item):
        raise PermissionDeniedError(f"“{item.name}”由{item.department_name or '主管部门'}办理，您无权处理。")


def _save(candidate: Candidate, *fields: str) -> None:
    candidate.version = F("version") + 1
    candidate.save(update_fields=[*fields, "version"])
    candidate.refresh_from_db(fields=["version"])


def review(
    *,
    candidate_id: int,
    user: User,
    approve: bool,
    note: str = "",
    amount_text: str = "",
    version: int | None = None,
    confirm_stale: bool = False,
) -> Candidate:
    """Approve (committing the amount in the fund pool) or reject a candidate.

    For an exact amount the engine's amount is approved as is; for a "最高/不超过" amount the reviewer
    sets the amount, at most the engine's. When the registry's current data no longer gives the
    matched decision, approval needs ``confirm_stale`` and a note (or a ``refresh`` first). Raises
    ``Conflict`` when the pool cannot cover it or the data changed (nothing changes), ``DomainError``
    for an item whose award was not read, a missing reason, a note over ``TextLimit.OPINION`` characters
    or a bad amount."""
    note = note.strip()
    check_lengths(("审核意见", note, TextLimit.OPINION))
    with transaction.atomic():
        candidate = _lock(candidate_id, version)
        _check_handles(user, candidate.item)
        if candidate.status != CandidateStatus.PENDING_REVIEW:
            raise Conflict(f"该候选当前为“{candidate.get_status_display()}”，不能再审核。")
        if not approve:
            if not note:
                raise DomainError("不予兑现须写明理由。")
            candidate.status = CandidateStatus.REJECTED
            candidate.review_note, candidate.reviewed_by, candidate.reviewed_at = note, user, timezone.now()
            _save(candidate, "status", "review_note", "reviewed_by", "reviewed_at")
            record_event(action="policies.rejected", actor=user, target=candidate, changes={"note": note})
            return candidate
        refuse_illustration(candidate.item, "审核通过（核定资金）")
        _check_in_force(candidate)
        if candidate.item.incomplete or candidate.engine_amount_fen is None:
            raise DomainError(
                f"“{candidate.item.name}”的奖励标准尚未录入（{candidate.item.incomplete or '无金额'}），不能核定金额。"
            )
        amount = candidate.engine_amount_fen
        if amount_kind(candidate) == "maximum":
            if not amount_text.strip():
                raise DomainError(f"该事项为“最高 {yuan(candidate.engine_amount_fen)}”，请填写核定金额。")
            amount = fen_from_text(amount_text, label="核定金额")
            if amount > candidate.engine_amount_fen:
                raise DomainError(f"核定金额不能超过上限 {yuan(candidate.engine_amount_fen)}。")
        elif amount_text.strip() and fen_from_text(amount_text, label="核定金额") != amount:
            raise DomainError("该事项按公式确定金额，不能另行核定。")
        if amount <= 0:
            raise DomainError("核定金额为 0，请选择不予兑现并写明理由。")
        _check_not_granted(candidate)
        live = precheck(candidate.enterprise, candidate.item, on=candidate.as_of).decision
        if (not live.passes_data or live.amount_fen != candidate.engine_amount_fen) and not (confirm_stale and note):
            raise Conflict(
                "企业库数据在匹配后已变化（当前数据"
                + ("已不符合" if not live.passes_data else f"测算为 {yuan(live.amount_fen)}")
                + "）：请先“按当前数据重新判断”，或勾选已核实并写明按匹配时数据核定的理由。"
            )
        pool = FundPool.objects.select_for_update().filter(item=candidate.item).first()
        if pool is None:
            raise DomainError(f"“{candidate.item.name}”尚未设置资金池（预算），不能核定。")
        if pool.available_fen < amount:
            raise Conflict(f"资金池余额不足：可用 {yuan(pool.available_fen)}，本次需 {yuan(amount)}。")
        pool.committed_fen = F("committed_fen") + amount
        pool.save(update_fields=["committed_fen"])
        candidate.status = CandidateStatus.APPROVED
        candidate.approved_fen = amount
        candidate.review_note, candidate.reviewed_by, candidate.reviewed_at = note, user, timezone.now()
        _save(candidate, "status", "approved_fen", "review_note", "reviewed_by", "reviewed_at")
        record_event(
            action="policies.approved", actor=user, target=candidate, changes={"amount_fen": amount, "note": note}
        )
    return candidate


def _check_in_force(candidate: Candidate) -> None:
    """The candidate's item applies on its as-of date under the rules in force now: its policy's
    validity is recorded and covers that day. Raises ``DomainError``."""
    _, item = rules_of(candidate.item)
    if item.version_on(candidate.as_of) is not None:
        return
    policy = candidate.item.policy
    if not policy.validity_recorded:
        raise DomainError(
            f"“{policy.title}”的{VALIDITY_PENDING}（来源未载明生效或失效日期）：请先在工作台按文件记录有效期，"
            "核实前不能审核通过。"
        )
    raise DomainError(f"匹配基准日 {candidate.as_of} 不在“{policy.title}”的有效期内，不能审核通过。")


def _check_not_granted(candidate: Candidate) -> None:
    """Re-decide the rule's "not already granted" conditions against today's grants (another period's
    candidate may have been approved since the match). Raises ``Conflict``."""
    rules = parse_rule_text(candidate.rule_file.text)
    item = next(i for i in rules.items if i.code == candidate.item.code)
    version = item.version_covering(candidate.as_of)
    leaves = [leaf for leaf in (version.leaves if version else []) if isinstance(leaf, NotGranted)]
    if not leaves:
        return
    others = Candidate.objects.filter(item=candidate.item, enterprise=candidate.enterprise, status__in=HOLDS_FUNDS)
    years = set(others.exclude(pk=candidate.pk).values_list("period", flat=True))
    context = reference.Context(period=candidate.period, as_of=candidate.as_of, granted={item.code: years})
    for leaf in leaves:
        passed, seen, _ = reference.leaf_outcome(leaf, {}, context, item.code)
        if passed is False:
            raise Conflict(f"不符合“{leaf.label}”：该企业{seen}本事项扶持。")


def refresh(*, candidate_id: int, user: User, version: int | None = None) -> Candidate:
    """Re-decide a pending candidate on the registry's current data and the rules in force: a new
    snapshot, bitmask and amount; a candidate that no longer qualifies is set aside with the reason."""
    with transaction.atomic():
        candidate = _lock(candidate_id, version)
        _check_handles(user, candidate.item)
        if candidate.status != CandidateStatus.PENDING_REVIEW:
            raise Conflict(f"该候选当前为“{candidate.get_status_display()}”，不能重新判断。")
        explanation = precheck(candidate.enterprise, candidate.item, on=candidate.as_of)
        before = {"amount_fen": candidate.engine_amount_fen, "failed_mask": candidate.failed_mask}
        if not explanation.decision.passes_data:
            failed = "、".join(f"{c.label}（{c.seen}）" for c in explanation.decision.failed)
            candidate.status = CandidateStatus.REJECTED
            candidate.review_note = f"按企业库当前数据已不符合：{failed}"
            candidate.reviewed_by, candidate.reviewed_at = user, timezone.now()
            _save(candidate, "status", "review_note", "reviewed_by", "reviewed_at")
        else:
            held = Candidate.objects.filter(
                item=candidate.item, enterprise=candidate.enterprise, status__in=HOLDS_FUNDS
            )
            snapshot = snapshot_of(enterprise_values(candidate.enterprise))
            snapshot["granted_years"] = sorted(set(held.values_list("period", flat=True)))
            candidate.snapshot = snapshot
            candidate.rule_file = rules_of(candidate.item)[0]
            candidate.failed_mask = explanation.decision.failed_mask
            candidate.engine_amount_fen = explanation.decision.amount_fen
            _save(candidate, "snapshot", "rule_file", "failed_mask", "engine_amount_fen")
        record_event(
            action="policies.refreshed",
            actor=user,
            target=candidate,
            changes={"before": before, "amount_fen": candidate.engine_amount_fen, "status": candidate.status},
        )
    return candidate


def publicity_end(start: datetime) -> datetime:
    """24:00 of the last working day of the 公示 period (rule ``policies.publicity_working_days``),
    the start day counting as the first when it is a working day."""
    days = int(get_rule_value("policies.publicity_working_days", local_date(start)))
    first = local_date(start) - timedelta(days=1)
    return end_of_local_day(get_calendar().add_working_days(first, days))


def recompute_publicity_ends(*, years: Sequence[int]) -> int:
    """Recompute the end of every open 公示 period that runs into one of ``years`` (after a holiday notice
    is imported), with an audit event for each that moves. Returns the number moved."""
    first = end_of_local_day(date(min(years), 1, 1) - timedelta(days=1))
    moved = 0
    open_periods = Publicity.objects.filter(closed_at__isnull=True, ends_at__gt=first).values_list("pk", flat=True)
    for publicity_id in list(open_periods):
        with transaction.atomic():
            publicity = Publicity.objects.select_for_update().get(pk=publicity_id)
            ends_at = publicity_end(publicity.starts_at)
            if ends_at == publicity.ends_at:
                continue
            before = publicity.ends_at
            publicity.ends_at = ends_at
            publicity.save(update_fields=["ends_at"])
            record_event(
                action="policies.publicity_rescheduled",
                target=publicity,
                changes={"ends_at": [before.isoformat(), ends_at.isoformat()]},
                message=f"节假日安排导入后重算公示截止时间：{local_date(before)} → {local_date(ends_at)}",
            )
            moved += 1
    return moved


def publish(*, item_id: int, user: User, now: datetime | None = None) -> Publicity:
    """Publish the approved candidates of an item (公示). Raises ``DomainError`` when none is approved."""
    now = now or timezone.now()
    with transaction.atomic():
        item = BenefitItem.objects.select_for_update().filter(pk=item_id).first()
        if item is None:
            raise NotFound("兑现事项不存在。")
        _check_handles(user, item)
        refuse_illustration(item, "发布公示")
        approved = list(
            Candidate.objects.select_for_update(of=("self",)).filter(item=item, status=CandidateStatus.APPROVED)
        )
        if not approved:
            raise DomainError("没有审核通过待公示的企业。")
        try:
            ends_at = publicity_end(now)
        except CalendarError as error:
            raise DomainError(f"无法计算公示截止日：{error.message}") from None
        publicity = Publicity.objects.create(
            item=item,
            starts_at=now,
            ends_at=ends_at,
            working_days=int(get_rule_value("policies.publicity_working_days", local_date(now))),
            objection_rule=str(get_rule_value("policies.objection_rule", local_date(now))),
            published_by=user,
        )
        Candidate.objects.filter(pk__in=[c.pk for c in approved]).update(
            status=CandidateStatus.IN_PUBLICITY, publicity=publicity, version=F("version") + 1
        )
        record_event(
            action="policies.published",
            actor=user,
            target=publicity,
            changes={"candidates": len(approved), "ends_at": publicity.ends_at.isoformat()},
        )
        ends = f"{timezone.localtime(publicity.ends_at):%Y-%m-%d}"
        _notify(
            approved,
            "policy_publicity",
            lambda c: f"公示：{c.item.name}",
            lambda c: f"贵企业拟获“{c.item.name}” {yuan(c.approved_fen)}，公示至 {ends}。请在“我的政策”确认收款账户。",
        )
    return publicity


def _enterprise_users(enterprise_ids: Iterable[int]) -> dict[int, list[User]]:
    usccs = dict(Enterprise.objects.filter(pk__in=list(enterprise_ids)).values_list("uscc", "pk"))
    out: dict[int, list[User]] = {}
    verified = User.objects.filter(account_type=AccountType.ENTERPRISE, enterprise_verified=True)
    for user in verified.filter(enterprise_uscc__in=list(usccs)):  # never an unverified claimant
        out.setdefault(usccs[user.enterprise_uscc], []).append(user)
    return out


def record_objection(
    *, candidate_id: int, user: User, name: str, phone: str, reason: str, now: datetime | None = None
) -> Objection:
    """Register a written real-name objection received during the publicity period."""
    now = now or timezone.now()
    name, phone, reason = name.strip(), phone.strip(), reason.strip()
    if not name or not reason:
        raise DomainError("异议须实名并写明理由（不按要求提出的不予受理）。")
    check_lengths(("异议人姓名", name, TextLimit.NAME), ("异议理由", reason, TextLimit.OPINION))
    phone = unicodedata.normalize("NFKC", phone).replace(" ", "")
    if not PHONE_RE.match(phone):
        raise DomainError("请填写异议人的联系电话：手机号（11 位）或带区号的固定电话（如 020-83000000）。")
    with transaction.atomic():
        candidate = _lock(candidate_id, None)
        _check_handles(user, candidate.item)
        if (
            candidate.status != CandidateStatus.IN_PUBLICITY
            or candidate.publicity is None
            or now > candidate.publicity.ends_at
        ):
            raise Conflict("只能在公示期内登记异议。")
        objection = Objection.objects.create(
            candidate=candidate,
            objector_name=name,
            objector_phone=phone,
            reason=reason,
            received_at=now,
            received_by=user,
        )
        record_event(
            action="policies.objection_received", actor=user, target=candidate, changes={"objection": objection.pk}
        )
    return objection


def decide_objection(*, objection_id: int, user: User, upheld: bool, note: str) -> Objection:
    """Decide an objection; an upheld one removes the candidate and returns its money to the pool."""
    if not note.strip():
        raise DomainError("请写明异议处理意见。")
    check_lengths(("异议处理意见", note, TextLimit.OPINION))
    with transaction.atomic():
        objection = Objection.objects.select_for_update().filter(pk=objection_id).first()
        if objection is None:
            raise NotFound("异议不存在。")
        if objection.outcome:
            raise Conflict("该异议已处理。")
        candidate = _lock(objection.candidate_id, None)
        _check_handles(user, candidate.item)
        objection.outcome = ObjectionOutcome.UPHELD if upheld else ObjectionOutcome.DISMISSED
        objection.decision_note, objection.decided_by, objection.decided_at = note.strip(), user, timezone.now()
        objection.save()
        if upheld:
            _release(candidate)
            candidate.status = CandidateStatus.REJECTED
            candidate.review_note = f"公示异议成立：{note.strip()}"
            _save(candidate, "status", "review_note")
        record_event(
            action="policies.objection_decided",
            actor=user,
            target=candidate,
            changes={"upheld": upheld, "note": note.strip()},
        )
    return objection


def _release(candidate: Candidate) -> None:
    pool = FundPool.objects.select_for_update().get(item=candidate.item)
    pool.committed_fen = F("committed_fen") - (candidate.approved_fen or 0)
    pool.save(update_fields=["committed_fen"])


def close_publicity(*, publicity_id: int, user: User | None, now: datetime | None = None) -> Publicity:
    """End a publicity after its period: its candidates pass. Raises ``Conflict`` before the end or
    while an objection is undecided."""
    now = now or timezone.now()
    with transaction.atomic():
        publicity = Publicity.objects.select_for_update().select_related("item").filter(pk=publicity_id).first()
        if publicity is None:
            raise NotFound("公示不存在。")
        if user is not None:
            _check_handles(user, publicity.item)
        if publicity.closed_at is not None:
            raise Conflict("该公示已结束。")
        if now < publicity.ends_at:
            raise Conflict(f"公示期至 {timezone.localtime(publicity.ends_at):%Y-%m-%d %H:%M} 止，期满后才能结束。")
        if Objection.objects.filter(candidate__publicity=publicity, outcome="").exists():
            raise Conflict("公示期内有尚未处理的异议，请先处理。")
        Candidate.objects.filter(publicity=publicity, status=CandidateStatus.IN_PUBLICITY).update(
            status=CandidateStatus.PUBLICITY_PASSED, version=F("version") + 1
        )
        publicity.closed_at, publicity.closed_by = now, user
        publicity.save(update_fields=["closed_at", "closed_by"])
        record_event(action="policies.publicity_closed", actor=user, target=publicity)
    return publicity


def confirm_account(
    *, candidate_id: int, user: User, bank_name: str, account_holder: str, bank_account: str
) -> Candidate:
    """The enterprise confirms it accepts the grant and gives its account (in publicity or after).

    Grants go only to the enterprise's own corporate account: the account holder (户名) must be the
    registered name. Raises ``PermissionDeniedError`` for anyone but the enterprise's own accounts,
    ``DomainError`` for a bad account, ``Conflict`` outside publicity or for a second confirmation."""
    bank_name = unicodedata.normalize("NFKC", bank_name).strip()
    holder = unicodedata.normalize("NFKC", account_holder).strip()
    account = unicodedata.normalize("NFKC", bank_account).replace(" ", "").replace("-", "").strip()
    if not bank_name or len(bank_name) > 100:
        raise DomainError("请填写开户银行（最多 100 个字）。")
    if not account.isdecimal() or not account.isascii() or not 8 <= len(account) <= 30:
        raise DomainError("银行账号应为 8–30 位数字。")
    with transaction.atomic():
        candidate = _lock(candidate_id, None)
        if user.account_type != AccountType.ENTERPRISE or user.enterprise_uscc != candidate.enterprise.uscc:
            raise PermissionDeniedError("只能确认本企业的政策兑现。")
        if not user.enterprise_verified:
            raise PermissionDeniedError("企业账号尚未完成身份核验，不能确认领取。请联系主管部门核验。")
        refuse_illustration(candidate.item, "确认领取")
        if registry.normalise_name(holder) != registry.normalise_name(candidate.enterprise.name):
            raise DomainError(
                f"户名须为本企业名称“{candidate.enterprise.name}”：扶持资金只拨付至企业本单位的对公账户。"
            )
        if candidate.status not in (CandidateStatus.IN_PUBLICITY, CandidateStatus.PUBLICITY_PASSED):
            raise Conflict(f"当前状态为“{candidate.get_status_display()}”，不能确认收款账户。")
        changed = candidate.confirmed_at is not None  # a change is allowed until the disbursement order
        candidate.bank_name, candidate.bank_account = bank_name, account
        candidate.confirmed_at, candidate.confirmed_by = timezone.now(), user
        _save(candidate, "bank_name", "bank_account", "confirmed_at", "confirmed_by")
        record_event(
            action="policies.account_confirmed",
            actor=user,
            target=candidate,
            changes={"bank_account": mask_account(account), "holder": holder, "changed": changed},
        )
    return candidate


def mask_account(account: str) -> str:
    """Only the last four digits of a bank account are shown: ``"****3456"``."""
    return f"****{account[-4:]}" if account else ""


def order_disbursement(*, candidate_id: int, user: User, version: int | None = None) -> Disbursement:
    """拨付单 for a candidate whose publicity passed and whose account is confirmed."""
    with transaction.atomic():
        candidate = _lock(candidate_id, version)
        _check_handles(user, candidate.item)
        refuse_illustration(candidate.item, "下达拨付")
        if candidate.status != CandidateStatus.PUBLICITY_PASSED:
            raise Conflict(f"当前状态为“{candidate.get_status_display()}”，公示期满无异议后才能下达拨付。")
        if candidate.confirmed_at is None:
            raise Conflict("企业尚未确认收款账户。")
        disbursement = Disbursement.objects.create(
            candidate=candidate, amount_fen=candidate.approved_fen, ordered_by=user, ordered_at=timezone.now()
        )
        candidate.status = CandidateStatus.ORDERED
        _save(candidate, "status")
        record_event(
            action="policies.disbursement_ordered",
            actor=user,
            target=candidate,
            changes={"amount_fen": candidate.approved_fen},
        )
    return disbursement


def record_payment(
    *,
    candidate_id: int,
    user: User,
    reference_no: str,
    amount_text: str | None = None,
    version: int | None = None,
) -> Disbursement:
    """Record the payment of an ordered disbursement: committed money becomes paid money.

    ``amount_text`` is the amount on the treasury's payment voucher as the officer types it
    (``"45万元"``, ``"450,000元"``, ``"450000"``; read by ``fen_from_text``): it must be the ordered
    amount, so a slip of the keyboard or a partial payment is caught before the pool moves (None: the
    caller did not ask, as for the periodic jobs). Raises ``DomainError`` for a missing reference or an
    unreadable or different amount, ``Conflict`` when the candidate is not ordered."""
    reference_no = reference_no.strip()
    if not reference_no:
        raise DomainError("请填写支付流水号。")
    check_lengths(("支付流水号", reference_no, Disbursement._meta.get_field("payment_reference").max_length))
    paid_fen = fen_from_text(amount_text, label="实付金额") if amount_text is not None else None
    with transaction.atomic():
        candidate = _lock(candidate_id, version)
        _check_handles(user, candidate.item)
        refuse_illustration(candidate.item, "登记拨付")
        if candidate.status != CandidateStatus.ORDERED:
            raise Conflict(f"当前状态为“{candidate.get_status_display()}”，不能登记拨付。")
        disbursement = Disbursement.objects.select_for_update().get(candidate=candidate)
        if paid_fen is not None and paid_fen != disbursement.amount_fen:
            raise DomainError(
                f"实付金额 {yuan(paid_fen)} 与拨付单金额 {yuan(disbursement.amount_fen)} 不一致，请核对国库支付凭证。"
            )
        pool = FundPool.objects.select_for_update().get(item=candidate.item)
        pool.committed_fen = F("committed_fen") - disbursement.amount_fen
        pool.paid_fen = F("paid_fen") + disbursement.amount_fen
        pool.save(update_fields=["committed_fen", "paid_fen"])
        disbursement.paid_at, disbursement.paid_by, disbursement.payment_reference = (
            timezone.now(),
            user,
            reference_no,
        )
        disbursement.save()
        candidate.status = CandidateStatus.PAID
        _save(candidate, "status")
        record_event(
            action="policies.paid",
            actor=user,
            target=candidate,
            changes={"amount_fen": disbursement.amount_fen, "reference": reference_no},
        )
    account_text = f"{candidate.bank_name} {mask_account(candidate.bank_account)}"
    _notify(
        [candidate],
        "policy_paid",
        lambda c: f"已拨付：{c.item.name}",
        lambda c: f"“{c.item.name}” {yuan(disbursement.amount_fen)} 已拨付至 {account_text}。",
    )
    return disbursement


def open_for_application(item: BenefitItem) -> str:
    """Why an item cannot be applied for here ("" when it can), in words for the public: another
    district's policy, handled outside the district, award not entered (the reason why is a research
    note, for staff only), an illustration, a document whose validity is not recorded, or no fund pool
    to pay from."""
    if item.illustration:
        return ILLUSTRATION_NOTICE
    if item.policy.other_district:  # select_related("policy") by lists
        return f"{item.policy.other_district}政策，仅供参考，不适用于越秀区企业"
    if not item.policy.validity_recorded:
        return f"{VALIDITY_PENDING}，主管部门按文件核实有效期前不受理"
    if item.organisation_id is None:
        return f"由{item.department_name or '外区或上级部门'}受理，请向其申报"
    if item.incomplete:
        return "奖励标准尚未录入"
    try:
        pool = item.fund_pool  # select_related("fund_pool") by lists: no query per item
    except FundPool.DoesNotExist:
        pool = None
    if pool is None or pool.available_fen <= 0:
        return "尚未安排资金" if pool is None or pool.budget_fen == 0 else "本年度资金已用完"
    return ""


def apply(*, item_id: int, user: User, declarations: list[str]) -> Candidate:
    """An enterprise applies for a 申报 item: the data conditions must pass the pre-check and every
    condition a person decides must be declared. The application enters review like a match."""
    if user.account_type != AccountType.ENTERPRISE:
        raise PermissionDeniedError("请使用企业账号申报。")
    if not user.enterprise_verified:
        raise PermissionDeniedError("企业账号尚未完成身份核验，不能申报。请联系主管部门核验。")
    enterprise = Enterprise.objects.filter(uscc=user.enterprise_uscc).first()
    if enterprise is None:
        raise NotFound("企业库中没有贵企业的数据，请联系主管部门核实。")
    item = BenefitItem.objects.select_related("policy").filter(pk=item_id).first()
    if item is None:
        raise NotFound("兑现事项不存在。")
    refuse_illustration(item, "申报")
    if item.mode != Mode.APPLICATION:
        raise DomainError("免申即享事项无需申报：符合条件的企业由系统自动匹配。")
    closed = open_for_application(item)
    if closed:
        raise DomainError(f"该事项暂不受理申报：{closed}。")
    today = timezone.localdate()
    explanation = precheck(enterprise, item, on=today)
    if explanation.version is None:
        raise DomainError("该政策不在有效期内。")
    if not explanation.decision.passes_data:  # eligible, or a lead whose manual conditions it declares
        failed = "、".join(f"{c.label}（{c.seen}）" for c in explanation.decision.failed)
        raise DomainError(f"预检未通过：{failed}。")
    manual = [c.label for c in explanation.decision.manual]
    missing = [label for label in manual if label not in declarations]
    if missing:
        raise DomainError(f"请逐项确认以下条件：{'、'.join(missing)}。")
    rule_file, _ = rules_of(item)
    with transaction.atomic():
        try:
            with transaction.atomic():
                candidate = Candidate.objects.create(
                    item=item,
                    enterprise=enterprise,
                    period=today.year,
                    source=Source.APPLICATION,
                    rule_file=rule_file,
                    as_of=today,
                    snapshot=snapshot_of(enterprise_values(enterprise)) | {"granted_years": []},
                    failed_mask=explanation.decision.failed_mask,
                    engine_amount_fen=explanation.decision.amount_fen,
                    declarations=manual,
                )
        except IntegrityError:
            raise Conflict("贵企业本年度已申报或已匹配该事项。") from None
        record_event(action="policies.applied", actor=user, target=candidate, changes={"declarations": manual})
    return candidate


# ----------------------------------------------------------------------------------- figures


def unrecorded_validity(prefix: str = "policy__") -> Q:
    """Filter for the records whose policy's validity is not recorded (``prefix`` "" for policies)."""
    return Q(**{f"{prefix}effective__isnull": True}) | Q(
        **{f"{prefix}expires__isnull": True, f"{prefix}expires_open": False}
    )


def figures(year: int | None = None) -> dict[str, Any]:
    """The loop's figures for the statistics pages and the annual report. ``year`` filters by period.

    ``items``: items that apply to Yuexiu's enterprises (of them ``no_application_items`` 免申即享,
    ``illustration_items`` illustrations, ``real_items`` and ``real_no_application_items`` the others,
    ``incomplete_items`` without an award,
    ``validity_pending_items`` real items whose document's validity is not recorded, so not matched);
    ``other_district_items``: other districts' items kept for reference only. From the newest finished
    run of the year (of any year without one): ``eligible_pairs`` (the data decide) and ``leads`` (a
    department decides: a count only — no amount of a lead is ever summed), illustrations' results
    (a demonstration) left out. ``enterprises_served`` and ``paid_fen`` (分) count paid candidates of
    real items; ``by_status`` candidates per state; ``registry`` enterprises."""
    candidates = Candidate.objects.filter(item__illustration=False)
    if year is not None:
        candidates = candidates.filter(period=year)
    paid = candidates.filter(status=CandidateStatus.PAID)
    by_status = dict(candidates.values_list("status").annotate(n=Count("id")))
    applicable = BenefitItem.objects.filter(policy__other_district="")
    runs = MatchRun.objects.filter(status=RunStatus.DONE)
    if year is not None:
        runs = runs.filter(period=year)
    run = runs.order_by("-finished_at", "-pk").first()
    return {
        "items": applicable.count(),
        "no_application_items": applicable.filter(mode=Mode.NO_APPLICATION).count(),
        "illustration_items": applicable.filter(illustration=True).count(),
        "real_items": applicable.filter(illustration=False).count(),
        "real_no_application_items": applicable.filter(illustration=False, mode=Mode.NO_APPLICATION).count(),
        "incomplete_items": applicable.exclude(incomplete="").count(),
        "validity_pending_items": applicable.filter(illustration=False).filter(unrecorded_validity()).count(),
        "other_district_items": BenefitItem.objects.exclude(policy__other_district="").count(),
        "eligible_pairs": run.pairs if run else 0,
        "leads": run.leads if run else 0,
        "enterprises_served": paid.values("enterprise").distinct().count(),
        "enterprises_served_no_application": paid.filter(item__mode=Mode.NO_APPLICATION)
        .values("enterprise")
        .distinct()
        .count(),
        "paid_fen": paid.aggregate(s=Sum("approved_fen"))["s"] or 0,
        "by_status": {label: by_status.get(value, 0) for value, label in CandidateStatus.choices},
        "registry": Enterprise.objects.count(),
    }


def audit_refusal(user: User, action: str, target: Any, error: DomainError) -> None:
    """Record a refused step at the boundary (the service's own transaction rolled back)."""
    outcome = AuditOutcome.DENIED if isinstance(error, PermissionDeniedError) else AuditOutcome.FAILED
    record_event(action=action, actor=user, target=target, outcome=outcome, message=error.message)


def iter_rule_problems(error: RuleFileError) -> Iterator[str]:
    for line, reason in error.problems:
        yield f"第{line}行：{reason}" if line else reason
