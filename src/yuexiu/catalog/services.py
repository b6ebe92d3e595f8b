"""Writes of the service catalogue: the guide editing workflow (draft → submitted → published or
returned), guide-check runs and the spreadsheet import.

Every service runs in a transaction, locks the item row where two people can act at once, writes
the audit event and raises ``DomainError`` with a Chinese message when it refuses, changing nothing.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from pydantic import ValidationError

from yuexiu.catalog import checks
from yuexiu.catalog.content import (
    ELEMENT_LABELS,
    HANDLING_TYPE_LABELS,
    GuideContent,
    LineError,
    carry_over,
    format_lines,
    parse_lines,
)
from yuexiu.catalog.merge import MergedBundle, MergedField
from yuexiu.catalog.models import (
    OPEN_STATUSES,
    ExerciseLevel,
    GuideCheckRun,
    GuideFinding,
    GuideStatus,
    GuideVersion,
    ItemType,
    ServiceItem,
    SharedEvidence,
)
from yuexiu.catalog.search import slug_for
from yuexiu.core import audit, identity, rules, tabular
from yuexiu.core.errors import Conflict, DomainError, PermissionDeniedError, validation_reason
from yuexiu.core.models import Organisation, Role, User
from yuexiu.core.selectors import with_descendants
from yuexiu.core.services import has_role
from yuexiu.core.text_limits import TextLimit, check_lengths, length_problem

REQUIRED_ELEMENTS_RULE = "catalog.guide_required_elements"
# Findings that make a guide unlawful or unsettled, not merely incomplete: it cannot be submitted or
# published (a guide with an open 待核实 question would be published as settled).
BLOCKING_RULES = ("promised_limit_exceeds_statutory", "unverified_caveat")


def _refuse_blocking_findings(version: GuideVersion) -> None:
    blocking = [finding for finding in check_version(version) if finding.rule in BLOCKING_RULES]
    if not blocking:
        return
    finding = blocking[0]
    if finding.rule == "unverified_caveat":
        raise Conflict(
            f"{finding.message.rstrip('。')}。核实后请删去该条待核实事项，并在修改说明中写明核实情况，再提交。",
            code="guide_check_failed",
        )
    raise Conflict(f"{finding.message}请先修改后再提交。", code="guide_check_failed")


# ---- permissions -------------------------------------------------------------------------------


def editable_organisation_ids(user: User) -> set[int]:
    """Organisations whose guides ``user`` may draft: where it holds the 办事指南编辑 role, and below."""
    if not user.is_authenticated:
        return set()
    roots = {
        assignment.organisation_id for assignment in user.role_assignments.all() if assignment.role == Role.GUIDE_EDITOR
    }
    return with_descendants(roots) if roots else set()


def can_edit(user: User, item: ServiceItem) -> bool:
    return item.organisation_id in editable_organisation_ids(user)


def can_review(user: User) -> bool:
    return has_role(user, Role.GUIDE_REVIEWER)


# Who works with guides: their editors, their reviewers, and the supervisors who watch the bureau.
# The three administrators (三员分立) manage the system, not its business content.
GUIDE_ROLES = (Role.GUIDE_EDITOR, Role.GUIDE_REVIEWER, Role.SUPERVISOR)


def can_work_on_guides(user: User) -> bool:
    """Whether the guide pages and the guide-check reports are open to ``user`` (``GUIDE_ROLES``)."""
    return has_role(user, *GUIDE_ROLES)


def _require_editor(user: User, item: ServiceItem) -> None:
    if not can_edit(user, item):
        raise PermissionDeniedError(f"您没有编辑“{item.name}”办事指南的权限（需本部门办事指南编辑角色）。")


def _require_reviewer(user: User) -> None:
    if not can_review(user):
        raise PermissionDeniedError("只有办事指南审核人员可以发布或退回指南。")


# ---- content -----------------------------------------------------------------------------------


def validate_content(data: dict[str, Any]) -> dict[str, Any]:
    """Check a guide document against ``GuideContent``; return it normalised (JSON-ready).

    Raises ``DomainError`` (code ``invalid_guide``) whose message names each bad element in Chinese and
    whose ``details["errors"]`` lists ``{"element", "reason"}``.
    """
    try:
        return GuideContent.model_validate(data).model_dump(mode="json")
    except ValidationError as error:
        problems = []
        for entry in error.errors():
            location = [str(part) for part in entry.get("loc", ())]
            element = location[0] if location else ""
            label = ELEMENT_LABELS.get(element, element)
            if len(location) > 1 and location[1].isdecimal():
                label += f"第 {int(location[1]) + 1} 项"
            problems.append({"element": element, "reason": f"{label}：{validation_reason(dict(entry))}"})
        message = "；".join(problem["reason"] for problem in problems[:5])
        raise DomainError(
            f"办事指南内容有误：{message}。", code="invalid_guide", details={"errors": problems}
        ) from None


LIST_ELEMENTS = ("legal_basis", "materials", "steps", "faq", "acceptance_conditions", "places", "delivery", "caveats")


def content_from_text(fields: dict[str, Any], *, previous: dict[str, Any]) -> dict[str, Any]:
    """The guide document ``previous`` with the editor's form values applied: list elements in their
    text forms (``LINE_FORMATS``, hidden attributes carried over, see ``content.carry_over``), limits
    as ``{element}`` (days or ``None``) plus ``{element}_unit``. Elements the form does not show are kept.

    Raises ``DomainError`` (code ``invalid_guide``) naming every bad element and line at once.
    """
    content = dict(previous)
    problems = []
    for element, value in fields.items():
        if element.endswith("_unit"):
            continue
        if element in LIST_ELEMENTS:
            try:
                content[element] = carry_over(element, previous.get(element), parse_lines(element, value or ""))
            except LineError as error:
                problems.append(f"{ELEMENT_LABELS[element]}：{error}")
        elif element in ("statutory_limit", "promised_limit"):
            unit = fields.get(f"{element}_unit") or "working_days"
            old = previous.get(element) or {}
            if value is None:
                content[element] = None
            elif old.get("value") == value and old.get("unit") == unit:
                content[element] = old
            else:
                content[element] = {"value": value, "unit": unit}
        else:
            content[element] = value
    if problems:
        raise DomainError("；".join(problem.rstrip("。") for problem in problems) + "。", code="invalid_guide")
    return content


# ---- the editing workflow ----------------------------------------------------------------------


@transaction.atomic
def create_draft(*, item: ServiceItem, editor: User) -> GuideVersion:
    """Open a draft of ``item``'s guide, copied from the current version. One open draft per item:
    raises ``Conflict`` if one exists, ``PermissionDeniedError`` if ``editor`` may not edit the item."""
    _require_editor(editor, item)
    item = ServiceItem.objects.select_for_update().get(pk=item.pk)
    if GuideVersion.objects.filter(item=item, status__in=OPEN_STATUSES).exists():
        raise Conflict("该事项已有未发布的修改稿，请继续编辑该修改稿。", code="draft_exists")
    number = (item.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    content = item.current_version.content if item.current_version else {}
    try:
        with transaction.atomic():
            draft = GuideVersion.objects.create(item=item, number=number, content=content, created_by=editor)
    except IntegrityError:
        raise Conflict("该事项已有未发布的修改稿，请继续编辑该修改稿。", code="draft_exists") from None
    audit.record_event(action="guide.draft_created", actor=editor, target=draft, changes={"number": number})
    return draft


def _locked_version(version: GuideVersion) -> GuideVersion:
    return GuideVersion.objects.select_for_update(of=("self",)).select_related("item").get(pk=version.pk)


@transaction.atomic
def save_draft(*, version: GuideVersion, editor: User, content: dict[str, Any], change_summary: str) -> GuideVersion:
    """Replace a draft's elements (validated as a whole, see ``validate_content``). Only a draft or a
    returned version can be saved, by an editor of the item's organisation."""
    version = _locked_version(version)
    _require_editor(editor, version.item)
    if not version.is_editable:
        raise Conflict(f"该版本状态为“{version.get_status_display()}”，不能修改。", code="not_editable")
    if not change_summary.strip():
        raise DomainError("请填写修改说明。", code="invalid_guide")
    check_lengths(("修改说明", change_summary, TextLimit.FIELD))
    validated = validate_content(content)
    before = describe_changes(version.content, validated)
    version.content = validated
    version.change_summary = change_summary.strip()
    version.save(update_fields=["content", "change_summary"])
    audit.record_event(action="guide.draft_saved", actor=editor, target=version, changes={"elements": before})
    return version


@transaction.atomic
def submit_draft(*, version: GuideVersion, editor: User) -> GuideVersion:
    version = _locked_version(version)
    _require_editor(editor, version.item)
    if not version.is_editable:
        raise Conflict(f"该版本状态为“{version.get_status_display()}”，不能提交。", code="not_editable")
    if not version.change_summary:
        raise DomainError("请先填写修改说明并保存。", code="invalid_guide")
    _refuse_blocking_findings(version)
    version.status = GuideStatus.SUBMITTED
    version.submitted_at = timezone.now()
    version.save(update_fields=["status", "submitted_at"])
    audit.record_event(action="guide.submitted", actor=editor, target=version)
    return version


@transaction.atomic
def publish_version(*, version: GuideVersion, reviewer: User) -> GuideVersion:
    """Publish a submitted version: it becomes the item's current guide and the previous current
    version becomes a readable historical version. Cases keep the version they were submitted under."""
    _require_reviewer(reviewer)
    item = ServiceItem.objects.select_for_update().get(pk=version.item_id)
    version = _locked_version(version)
    if version.status != GuideStatus.SUBMITTED:
        raise Conflict(
            f"该版本状态为“{version.get_status_display()}”，只有待审核的版本可以发布。", code="not_submitted"
        )
    _refuse_blocking_findings(version)
    previous = item.current_version
    if previous is not None:
        previous.status = GuideStatus.SUPERSEDED
        previous.save(update_fields=["status"])
    now = timezone.now()
    version.status = GuideStatus.PUBLISHED
    version.reviewed_by = reviewer
    version.reviewed_at = now
    version.published_at = now
    version.return_reason = ""
    version.save(update_fields=["status", "reviewed_by", "reviewed_at", "published_at", "return_reason"])
    item.current_version = version
    item.save(update_fields=["current_version", "updated_at"])
    audit.record_event(
        action="guide.published",
        actor=reviewer,
        target=version,
        changes={"elements": describe_changes(previous.content if previous else {}, version.content)},
    )
    return version


@transaction.atomic
def return_version(*, version: GuideVersion, reviewer: User, reason: str) -> GuideVersion:
    """Send a submitted version back to its editors with a reason (required, ≤500 characters)."""
    _require_reviewer(reviewer)
    version = _locked_version(version)
    if version.status != GuideStatus.SUBMITTED:
        raise Conflict(
            f"该版本状态为“{version.get_status_display()}”，只有待审核的版本可以退回。", code="not_submitted"
        )
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("退回时必须填写理由。", code="reason_required")
    check_lengths(("退回理由", reason, TextLimit.FIELD))
    version.status = GuideStatus.RETURNED
    version.reviewed_by = reviewer
    version.reviewed_at = timezone.now()
    version.return_reason = reason
    version.save(update_fields=["status", "reviewed_by", "reviewed_at", "return_reason"])
    audit.record_event(action="guide.returned", actor=reviewer, target=version, message=reason[:500])
    return version


def describe_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Names (Chinese labels) of the elements that differ between two guide documents."""
    return [
        label
        for element, label in ELEMENT_LABELS.items()
        if element in before or element in after
        if before.get(element) != after.get(element)
    ]


# ---- 一次性告知 on a bundle's merged form ------------------------------------------------------

BANK_ACCOUNT = re.compile(r"^\d{10,30}$")
FIELD_LENGTH = TextLimit.TITLE


def _field_problem(field: MergedField, value: str, today: date) -> str:
    """The Chinese reason a filled-in value of ``field`` is wrong, or ``""``."""
    if problem := length_problem(field.label, value, FIELD_LENGTH):
        return problem
    if field.kind == "id_number":
        try:
            number = identity.normalise_id_number(value)
        except DjangoValidationError as error:
            return f"{field.label}：{error.messages[0]}"
        if field.sex and identity.id_number_sex(number) != field.sex:
            return f"{field.label}与性别不符（应为{'女性' if field.sex == 'female' else '男性'}的身份证号）。"
    elif field.kind == "phone":
        try:
            identity.validate_mobile(value)
        except DjangoValidationError as error:
            return f"{field.label}：{error.messages[0]}"
    elif field.kind == "date":
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return f"{field.label}应为日期，格式 YYYY-MM-DD。"
        if day > today:
            return f"{field.label}不能晚于今天。"
        if field.max_age_years is not None and day <= _years_before(today, field.max_age_years):
            return f"{field.label}距今不能满 {field.max_age_years} 年（办理条件）。"
        if day.year < 1900:
            return f"{field.label}不能早于 1900 年。"
    elif field.kind == "choice" and field.choices and value not in field.choices:
        return f"{field.label}只能选择{'、'.join(field.choices)}。"
    elif field.kind == "bank_account" and not BANK_ACCOUNT.match(value):
        return f"{field.label}应为 10 到 30 位数字。"
    return ""


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def precheck_bundle_form(*, merged: MergedBundle, data: Any, today: date | None = None) -> dict[str, Any]:
    """一次性告知 (国发〔2024〕3号: 一次告知、一表申请): check the merged form's values and list every
    problem at once. Nothing is stored and nothing is audited: the values are shown back only.

    ``data`` maps field keys to text (a QueryDict works). Checks: required fields, 身份证号 (check digit,
    birth date, and the sex a field requires), phone, dates (not in the future, within ``max_age_years``),
    choices, bank account, and that two 身份证号 fields do not hold the same number.
    Returns ``{"errors": {field key: Chinese reason}, "materials": [materials to bring], "passed": bool}``.
    """
    today = today or timezone.localdate()
    errors: dict[str, str] = {}
    id_numbers: dict[str, MergedField] = {}
    for field in merged.fields:
        value = str(data.get(field.key, "")).strip()
        if not value:
            if field.required:
                errors[field.key] = f"请填写{field.label}。"
            continue
        problem = _field_problem(field, value, today)
        if problem:
            errors[field.key] = problem
        elif field.kind == "id_number":
            number = identity.normalise_id_number(value)
            if number in id_numbers:
                errors[field.key] = f"{field.label}与{id_numbers[number].label}相同，请核对。"
            id_numbers[number] = field
    return {"errors": errors, "materials": merged.materials_to_submit, "passed": not errors}


# ---- guide checks ------------------------------------------------------------------------------


def current_evidence(on: date | None = None) -> list[checks.Evidence]:
    """The shared-evidence table in force on ``on`` (default today): the latest row per name."""
    on = on or timezone.localdate()
    latest: dict[str, SharedEvidence] = {}
    for row in SharedEvidence.objects.filter(effective_from__lte=on).order_by("name", "effective_from"):
        latest[row.name] = row
    return [
        checks.Evidence(name=row.name, aliases=tuple(row.aliases), kind=row.kind, source=row.source_document)
        for row in latest.values()
    ]


def checked_guide(item: ServiceItem, version: GuideVersion) -> checks.CheckedGuide:
    return checks.CheckedGuide(
        key=str(version.pk),
        name=item.name,
        base_code=item.base_code,
        implementation_code=item.implementation_code,
        item_type=item.item_type,
        exercise_level=item.exercise_level,
        organisation_code=item.organisation.code,
        organisation_name=item.organisation.name,
        content=version.content,
    )


def check_version(version: GuideVersion) -> list[checks.Finding]:
    """Findings of the single-guide rules on one version (a draft being edited, say)."""
    return checks.check_guide(
        checked_guide(version.item, version),
        required_elements=rules.get_rule_value(REQUIRED_ELEMENTS_RULE),
        evidence=current_evidence(),
    )


@transaction.atomic
def run_guide_checks(*, triggered_by: User | None = None) -> GuideCheckRun:
    """Check every active item's current guide and store the findings as a new run.

    Rules: ``yuexiu.catalog.checks``; required elements from the dated rule
    ``catalog.guide_required_elements``; evidence from ``SharedEvidence``.
    """
    items = list(
        ServiceItem.objects.filter(is_active=True, current_version__isnull=False).select_related(
            "organisation", "current_version"
        )
    )
    by_key = {str(item.current_version_id): item for item in items}
    findings = checks.check_guides(
        [checked_guide(item, item.current_version) for item in items],  # type: ignore[arg-type]
        required_elements=rules.get_rule_value(REQUIRED_ELEMENTS_RULE),
        evidence=current_evidence(),
    )
    run = GuideCheckRun.objects.create(triggered_by=triggered_by, item_count=len(items), finding_count=len(findings))
    GuideFinding.objects.bulk_create(
        GuideFinding(
            run=run,
            item=by_key[finding.key],
            version_id=int(finding.key),
            organisation_id=by_key[finding.key].organisation_id,
            rule=finding.rule,
            element=finding.element,
            message=finding.message[:500],
        )
        for finding in findings
    )
    run.finished_at = timezone.now()
    run.save(update_fields=["finished_at"])
    audit.record_event(
        action="guide.checks_run",
        actor=triggered_by,
        target=run,
        changes={"items": len(items), "findings": len(findings)},
    )
    return run


# ---- spreadsheet import --------------------------------------------------------------------------

IMPORT_COLUMNS = [
    "实施编码",
    "基本编码",
    "事项名称",
    "事项类型",
    "实施主体编码",
    "行使层级",
    "法定办结时限（工作日）",
    "承诺办结时限（工作日）",
    "办件类型",
    "是否收费",
    "收费标准",
    "收费依据",
    "设定依据",
    "受理条件",
    "申请材料",
    "办理地点",
    "办理时间",
    "到办事现场次数",
    "咨询方式",
    "监督投诉方式",
    "指南版本",
]
# The guide version a row was exported from: a row from an older version is refused (stale file).
VERSION_COLUMN = "指南版本"
REQUIRED_COLUMNS = ["实施编码", "基本编码", "事项名称", "事项类型", "实施主体编码"]
_TYPES = {label: value for value, label in ItemType.choices}
_LEVELS = {label: value for value, label in ExerciseLevel.choices}
_HANDLING = {"即办件": "immediate", "承诺件": "promised", "": ""}
_LIST_COLUMNS = {
    "设定依据": "legal_basis",
    "受理条件": "acceptance_conditions",
    "申请材料": "materials",
    "办理地点": "places",
}
# The guide element each content column writes (the other columns are the item's identity).
COLUMN_ELEMENTS = {
    "法定办结时限（工作日）": "statutory_limit",
    "承诺办结时限（工作日）": "promised_limit",
    "办件类型": "handling_type",
    "是否收费": "fee_charged",
    "收费标准": "fee_standard",
    "收费依据": "fee_basis",
    **_LIST_COLUMNS,
    "办理时间": "hours",
    "到办事现场次数": "onsite_visits",
    "咨询方式": "consultation",
    "监督投诉方式": "complaint",
}


def catalogue_row(item: ServiceItem) -> dict[str, str]:
    """An item as one spreadsheet row (``IMPORT_COLUMNS`` → text), as exported and as compared on import."""
    content = item.current_version.content if item.current_version else {}
    statutory, promised = content.get("statutory_limit"), content.get("promised_limit")
    fee = content.get("fee_charged")
    visits = content.get("onsite_visits")
    values = [
        item.implementation_code,
        item.base_code,
        item.name,
        item.get_item_type_display(),
        item.organisation.code,
        item.get_exercise_level_display(),
        str(statutory["value"]) if statutory and statutory["unit"] == "working_days" else "",
        str(promised["value"]) if promised and promised["unit"] == "working_days" else "",
        HANDLING_TYPE_LABELS.get(content.get("handling_type", ""), ""),
        "" if fee is None else ("是" if fee else "否"),
        content.get("fee_standard", ""),
        content.get("fee_basis", ""),
        format_lines("legal_basis", content.get("legal_basis", [])),
        format_lines("acceptance_conditions", content.get("acceptance_conditions", [])),
        format_lines("materials", content.get("materials", [])),
        format_lines("places", content.get("places", [])),
        content.get("hours", ""),
        "" if visits is None else str(visits),
        content.get("consultation", ""),
        content.get("complaint", ""),
        str(item.current_version.number) if item.current_version else "",
    ]
    return dict(zip(IMPORT_COLUMNS, values, strict=True))


def _row_problems(values: dict[str, str], seen: set[str], organisations: dict[str, Organisation]) -> list[str]:
    """Every problem of one import row's identity columns, in Chinese (empty when the row is good)."""
    problems = []
    missing = [column for column in REQUIRED_COLUMNS if not values.get(column)]
    if missing:
        problems.append(f"缺少{'、'.join(missing)}")
    code = values.get("实施编码", "")
    if code and code in seen:
        problems.append(f"实施编码 {code} 在文件中重复")
    seen.add(code)
    if values.get("事项类型") and values["事项类型"] not in _TYPES:
        problems.append(f"事项类型“{values['事项类型']}”无效，应为{'、'.join(_TYPES)}之一")
    if values.get("行使层级", "") and values["行使层级"] not in _LEVELS:
        problems.append(f"行使层级“{values['行使层级']}”无效，应为{'、'.join(_LEVELS)}之一")
    if values.get("实施主体编码") and values["实施主体编码"] not in organisations:
        problems.append(f"实施主体编码“{values['实施主体编码']}”不存在")
    if values.get("事项名称", "")[:1] in ("=", "+", "-", "@"):
        problems.append("事项名称不能以 =、+、-、@ 开头（表格公式）")
    if values.get(VERSION_COLUMN, "") and not values[VERSION_COLUMN].isdecimal():
        problems.append(f"指南版本应为整数，实际为“{values[VERSION_COLUMN]}”")
    for column, limit in (("事项名称", 200), ("实施编码", 64), ("基本编码", 32)):
        if len(values.get(column, "")) > limit:
            problems.append(f"{column}不能超过 {limit} 个字符")
    return problems


def _row_content(values: dict[str, str]) -> dict[str, Any]:
    """A guide document from one import row; raises ``DomainError`` with the column named."""
    content: dict[str, Any] = {}
    for column, element in (
        ("法定办结时限（工作日）", "statutory_limit"),
        ("承诺办结时限（工作日）", "promised_limit"),
    ):
        text = values.get(column, "")
        content[element] = None
        if text:
            if not text.isdecimal():
                raise DomainError(f"“{column}”应为整数（工作日），实际为“{text}”")
            content[element] = {"value": int(text), "unit": "working_days"}
    handling = values.get("办件类型", "")
    if handling not in _HANDLING:
        raise DomainError(f"“办件类型”应为“即办件”或“承诺件”，实际为“{handling}”")
    content["handling_type"] = _HANDLING[handling]
    fee = values.get("是否收费", "")
    content["fee_charged"] = None
    if fee:
        if fee not in ("是", "否"):
            raise DomainError(f"“是否收费”应为“是”或“否”，实际为“{fee}”")
        content["fee_charged"] = fee == "是"
    content["fee_standard"] = values.get("收费标准", "")
    content["fee_basis"] = values.get("收费依据", "")
    for column, element in _LIST_COLUMNS.items():
        try:
            content[element] = parse_lines(element, values.get(column, ""))
        except LineError as error:
            raise DomainError(f"“{column}”{error}") from None
    visits = values.get("到办事现场次数", "")
    content["onsite_visits"] = None
    if visits:
        if not visits.isdecimal():
            raise DomainError(f"“到办事现场次数”应为整数，实际为“{visits}”")
        content["onsite_visits"] = int(visits)
    content["hours"] = values.get("办理时间", "")
    content["consultation"] = values.get("咨询方式", "")
    content["complaint"] = values.get("监督投诉方式", "")
    return content


@transaction.atomic
def import_catalogue(*, data: bytes, importer: User) -> dict[str, int]:
    """Import service items from an Excel or CSV file (UTF-8, UTF-8 with BOM or GB18030, detected from
    the content). Columns: ``IMPORT_COLUMNS``; list cells hold one entry per line (``LINE_FORMATS``).

    A new 实施编码 creates an item with a published version 1; a known one gets a new published version
    when its guide changed. All or nothing: any bad row raises ``DomainError`` (code ``import_failed``,
    ``details["errors"]`` = ``[{"row", "message"}]``) and nothing is saved. Only 办事指南审核 staff import.
    """
    _require_reviewer(importer)
    try:
        table = tabular.read_table(data, required_columns=REQUIRED_COLUMNS)
    except tabular.TableError as error:
        raise DomainError(error.message, code="import_failed") from None
    organisations = {organisation.code: organisation for organisation in Organisation.objects.all()}
    items = {item.implementation_code: item for item in ServiceItem.objects.select_related("current_version")}
    taken_slugs = set(ServiceItem.objects.values_list("slug", flat=True))
    errors: list[dict[str, Any]] = []
    plans: list[tuple[int, dict[str, str], dict[str, Any]]] = []
    seen: set[str] = set()
    for row in table.rows:
        values = {column: tabular.strip_formula_guard(value) for column, value in row.values.items()}
        problems = _row_problems(values, seen, organisations)
        content: dict[str, Any] = {}
        try:
            content = _row_content(values)
            validate_content(content)
        except DomainError as error:
            problems.append(error.message.rstrip("。"))
        errors.extend({"row": row.number, "message": problem} for problem in problems)
        if not problems:
            plans.append((row.number, values, content))
    if errors:
        rows = len({error["row"] for error in errors})
        summary = "；".join(f"第 {error['row']} 行：{error['message']}" for error in errors[:5])
        raise DomainError(
            f"导入失败，共 {rows} 行有误，未导入任何数据。{summary}。",
            code="import_failed",
            details={"errors": errors},
        )
    created = updated = unchanged = 0
    changes: list[dict[str, Any]] = []
    now = timezone.now()
    refused: list[dict[str, Any]] = []
    stale: list[dict[str, Any]] = []
    for row_number, values, row_content in plans:
        code = values["实施编码"]
        item = items.get(code)
        attributes = {
            "base_code": values["基本编码"],
            "name": values["事项名称"],
            "item_type": _TYPES[values["事项类型"]],
            "organisation": organisations[values["实施主体编码"]],
            "exercise_level": _LEVELS.get(values.get("行使层级", ""), ExerciseLevel.COUNTY),
        }
        if item is None:
            slug = slug_for(values["事项名称"], taken_slugs)
            taken_slugs.add(slug)
            item = ServiceItem.objects.create(slug=slug, implementation_code=code, source_note="表格导入", **attributes)
            content, number, changed = row_content, 1, ["新增"]
            created += 1
        else:
            current_row = catalogue_row(item)
            exported_from = values.get(VERSION_COLUMN, "")
            if exported_from and exported_from != current_row[VERSION_COLUMN]:
                stale.append(
                    {
                        "row": row_number,
                        "message": f"该行导出自第 {exported_from} 版，“{item.name}”现行为第 "
                        f"{current_row[VERSION_COLUMN]} 版，请重新导出后再修改",
                    }
                )
                continue
            changed = [
                column
                for column in IMPORT_COLUMNS
                if column != VERSION_COLUMN and values.get(column, "") != current_row[column]
            ]
            if not changed:
                unchanged += 1
                continue
            updated += 1
            item = ServiceItem.objects.select_for_update().get(pk=item.pk)
            if any(column not in COLUMN_ELEMENTS for column in changed):
                for name, value in attributes.items():
                    setattr(item, name, value)
                item.save()
            content_columns = [column for column in changed if column in COLUMN_ELEMENTS]
            if not content_columns:
                changes.append({"implementation_code": code, "columns": changed})
                continue
            if GuideVersion.objects.filter(item=item, status__in=OPEN_STATUSES).exists():
                raise Conflict(f"“{item.name}”有未发布的修改稿，请先处理后再导入。", code="draft_exists")
            current = item.current_version
            previous = current.content if current else {}
            # Only the changed columns change; everything else of the guide (sources, conflicts,
            # elements without a column) is kept.
            content = dict(previous)
            for column in content_columns:
                element = COLUMN_ELEMENTS[column]
                value = row_content.get(element)
                content[element] = (
                    carry_over(element, previous.get(element), value) if element in LIST_ELEMENTS else value
                )
            if current is not None:
                current.status = GuideStatus.SUPERSEDED
                current.save(update_fields=["status"])
            number = (item.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        content = validate_content(content)
        blocking = [
            finding.message
            for finding in checks.check_guide(
                checked_guide(item, GuideVersion(content=content)), required_elements=[], evidence=[]
            )
            if finding.rule in BLOCKING_RULES
        ]
        if blocking:
            refused.extend({"row": row_number, "message": message.rstrip("。")} for message in blocking)
            continue
        version = GuideVersion.objects.create(
            item=item,
            number=number,
            status=GuideStatus.PUBLISHED,
            content=content,
            change_summary="表格导入：" + "、".join(changed)[:480],
            created_by=importer,
            reviewed_by=importer,
            reviewed_at=now,
            published_at=now,
        )
        item.current_version = version
        item.save(update_fields=["current_version"])
        changes.append({"implementation_code": code, "version": number, "columns": changed})
    refused = sorted(stale + refused, key=lambda error: error["row"])
    if refused:
        # A stale row, or the rule of publishing (promised limit ≤ statutory). Raising
        # rolls back every row already written.
        summary = "；".join(f"第 {error['row']} 行：{error['message']}" for error in refused[:5])
        raise DomainError(
            f"导入失败，共 {len(refused)} 行有误，未导入任何数据。{summary}。",
            code="import_failed",
            details={"errors": refused},
        )
    result = {"created": created, "updated": updated, "unchanged": unchanged}
    audit.record_event(
        action="catalog.imported",
        actor=importer,
        changes={**result, "format": table.format, "items": changes[:500]},
        message=f"导入事项目录：新增 {created}，更新 {updated}",
    )
    return result
