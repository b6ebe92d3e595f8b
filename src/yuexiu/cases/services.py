"""Writes of case handling: applying (online or at a window), the case state machine, pauses and
files. Every transition runs in a transaction on the locked case row, checks the version the actor
saw (so of two officers acting at once exactly one succeeds), writes a ``CaseEvent`` and an audit event.

States: submitted → accepted | declined; accepted → correction_requested → accepted (补正, clock
stopped); accepted → special_procedure → accepted (行政许可法 第四十五条, clock stopped);
accepted → approved | refused; approved / refused → delivered → closed.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from yuexiu.cases import selectors
from yuexiu.cases.clock import NATURAL_DAYS, ClockState, Pause, clock_state, limit_of, warning_instant
from yuexiu.cases.models import (
    OPEN_STATUSES,
    PAUSED_STATUSES,
    Attachment,
    BundleCase,
    Case,
    CaseCounter,
    CaseEvent,
    CasePause,
    CaseStatus,
    Channel,
    CitywideTransfer,
    DeadlineExtension,
    DeliveryMethod,
    ExtensionKind,
    ExtensionStatus,
    HandoverMethod,
    PauseKind,
    ResultPlace,
    TransferDirection,
)
from yuexiu.catalog import selectors as catalog_selectors
from yuexiu.catalog import services as catalog_services
from yuexiu.catalog.models import ServiceBundle, ServiceItem
from yuexiu.core import audit, crypto, files, identity, rules
from yuexiu.core.calendar import get_calendar
from yuexiu.core.errors import Conflict, DomainError, PermissionDeniedError
from yuexiu.core.models import AccountType, Organisation, OutboxMessage, Role, User
from yuexiu.core.selectors import visible_organisation_ids, with_descendants
from yuexiu.core.services import has_role
from yuexiu.core.text_limits import TextLimit, check_lengths, check_lines, length_problem, length_problems
from yuexiu.core.uploads import UploadTooLarge, read_upload, size_problem
from yuexiu.core.workdays import end_of_local_day, local_date

CENTRE_CODE = "440104-ZSJ"
TRACKING_NUMBER = re.compile(r"^[A-Za-z0-9-]{6,40}$")  # 区政务服务中心 is run by the bureau: the default intake window


# ---- uploads ---------------------------------------------------------------------------------------

# File kinds accepted as application materials, recognised by their first bytes, never by the name.
SIGNATURES = (
    (b"%PDF-", "application/pdf", "PDF"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "PNG"),
    (b"\xff\xd8\xff", "image/jpeg", "JPG"),
    (b"PK\x03\x04", "application/ofd", "OFD"),  # OFD (GB/T 33190) is a zip package
)


@dataclass(frozen=True)
class Upload:
    """A file the applicant or the window attaches: the material it is for, its name and its bytes.
    ``size`` is the number of bytes received when the file was too large to be read (``data`` is then
    empty; ``check_upload`` refuses it), else ``None``."""

    material_name: str
    file_name: str
    data: bytes
    size: int | None = None

    @classmethod
    def received(cls, material_name: str, upload: UploadedFile) -> Upload:
        """The ``Upload`` of a file of a page's form, read only when it is within
        ``CASE_UPLOAD_MAX_BYTES`` (``core.uploads.read_upload``)."""
        try:
            return cls(material_name, upload.name or "", read_upload(upload, limit=settings.CASE_UPLOAD_MAX_BYTES))
        except UploadTooLarge:
            size = max(upload.size or 0, settings.CASE_UPLOAD_MAX_BYTES + 1)
            return cls(material_name, upload.name or "", b"", size=size)


def check_upload(upload: Upload) -> str:
    """The content type of an acceptable upload; raises ``DomainError`` in Chinese otherwise.

    Accepted: PDF, PNG, JPG, and OFD (a zip whose name ends in .ofd), up to ``CASE_UPLOAD_MAX_BYTES``.
    """
    limit = settings.CASE_UPLOAD_MAX_BYTES
    name = upload.file_name or "未命名文件"
    too_large = size_problem(name, upload.size if upload.size is not None else len(upload.data), limit)
    if too_large:
        raise DomainError(too_large, code="invalid_upload")
    if not upload.data:
        raise DomainError(f"文件“{name}”是空文件，请重新选择。", code="invalid_upload")
    for signature, content_type, label in SIGNATURES:
        if upload.data.startswith(signature):
            if label == "OFD" and not (name.lower().endswith(".ofd") and _is_ofd_package(upload.data)):
                break
            return content_type
    raise DomainError(
        f"文件“{name}”的格式不支持：只接受 PDF、JPG、PNG 或 OFD 文件（按文件内容识别）。", code="invalid_upload"
    )


def _is_ofd_package(data: bytes) -> bool:
    """An OFD file (GB/T 33190-2016) is a zip package with ``OFD.xml`` at its root."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            return "OFD.xml" in package.namelist()
    except zipfile.BadZipFile:
        return False


def stored_file_name(original_name: str, content_type: str) -> str:
    """The name a file is served under: the applicant's name with the extension of its detected type
    (a PDF uploaded as ``virus.exe`` is served as ``virus.pdf``)."""
    stem = original_name.rsplit(".", 1)[0] if "." in original_name else original_name
    return f"{stem or '材料'}{_extension(content_type)}"


def _store_attachments(
    case: Case,
    uploads: Sequence[Upload],
    actor: User | None,
    types: list[str],
) -> None:
    """Store each upload and its row, inside ``files.discarding_on_failure`` (a file whose row is not
    saved is deleted again)."""
    now = timezone.now()
    for upload, content_type in zip(uploads, types, strict=True):
        digest = hashlib.sha256(upload.data).hexdigest()
        attachment = Attachment(
            case=case,
            material_name=upload.material_name[:200],
            original_name=upload.file_name[:255],
            content_type=content_type,
            size=len(upload.data),
            sha256=digest,
            uploaded_by=actor,
            uploaded_at=now,
        )
        # Stored under a content-derived name with a random suffix; the Chinese original name is kept
        # in the row. A storage refusing the file raises files.StorageFailure (Chinese).
        files.save_field_file(
            attachment.file, files.unique_name(digest[:32], _extension(content_type)), ContentFile(upload.data)
        )
        attachment.save()


def _extension(content_type: str) -> str:
    return {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}.get(content_type, ".ofd")


def upload_problems(uploads: Sequence[Upload]) -> tuple[list[str], list[str]]:
    """Check every upload: ``(content types of the good ones, Chinese problems)``. Each bad file gives
    its own problem with its name and reason, so one answer lists them all."""
    problems = []
    if len(uploads) > settings.CASE_UPLOAD_MAX_FILES:
        problems.append(f"一次最多上传 {settings.CASE_UPLOAD_MAX_FILES} 个文件（本次 {len(uploads)} 个）。")
    types = []
    for upload in uploads:
        try:
            types.append(check_upload(upload))
        except DomainError as error:
            problems.append(error.message)
    return types, problems


def _checked_uploads(uploads: Sequence[Upload]) -> list[str]:
    """Content types of ``uploads``; raises ``DomainError`` listing every bad file (``details["errors"]``)."""
    types, problems = upload_problems(uploads)
    if problems:
        raise DomainError("文件未通过检查：" + "；".join(problems), code="invalid_upload", details={"errors": problems})
    return types


# ---- applying --------------------------------------------------------------------------------------


def _next_number(day: date) -> str:
    """``YX`` + date + 6-digit sequence of the day, from a locked counter row (unique, no gaps)."""
    counter, _ = CaseCounter.objects.select_for_update().get_or_create(day=day)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"YX{day:%Y%m%d}{counter.last:06d}"


class RepeatApplication(Conflict):
    """The same person applies again for an item while an earlier application of theirs is still open;
    the application is created only once they confirm (``confirm_repeat``).
    ``details["open_cases"]``: ``[{"number", "status", "status_label", "submitted_at"}]``."""

    code = "repeat_application"


def service_object_refusal(item: ServiceItem, user: User) -> str:
    """Why ``user`` may not apply online for ``item`` given its 服务对象 (service object), or ``""``.

    An item for 法人 takes enterprise accounts only, an item for 自然人 citizen accounts only; an
    item for both, or whose guide does not say, takes both. Staff register at the window instead."""
    target = (item.current_version.content if item.current_version else {}).get("service_object", "")
    if target == "legal_person" and user.account_type != AccountType.ENTERPRISE:
        return (
            f"“{item.name}”的服务对象为法人，须由企业（法人）账号申请，自然人账号不能申请。"
            "如您代表企业办理，请使用企业账号登录后申请。"
        )
    if target == "natural_person" and user.account_type != AccountType.CITIZEN:
        return f"“{item.name}”的服务对象为自然人，须由申请人本人以自然人账号申请，企业账号不能申请。"
    return ""


def applicant_identity(*, applicant: User | None, id_number: str = "") -> str:
    """Who applies, as a key that is the same for every application of one person: the enterprise's
    统一社会信用代码 for an enterprise account, else the keyed digest of the 身份证号 (online or typed in
    at a window: ``crypto.digest``, so the key holds no plain personal number), else the account.
    ``""`` for a window registration without an ID number (nobody to compare)."""
    if applicant is not None and applicant.account_type == AccountType.ENTERPRISE and applicant.enterprise_uscc:
        return f"uscc:{applicant.enterprise_uscc}"
    if id_number:
        return f"id:{crypto.digest(id_number)}"
    if applicant is not None:
        return f"user:{applicant.pk}"
    return ""


def list_open_applications(*, item: ServiceItem, person: str) -> list[Case]:
    """The open cases (not closed or declined) of ``person`` (an ``applicant_identity``) for ``item``
    outside any 一件事, oldest first."""
    if not person:
        return []
    return list(
        Case.objects.filter(
            item=item, applicant_identity=person, bundle_case__isnull=True, status__in=OPEN_STATUSES
        ).order_by("submitted_at", "id")
    )


def _repeat(open_cases: Sequence[Case]) -> RepeatApplication:
    numbers = "、".join(f"{case.number}（{case.get_status_display()}）" for case in open_cases)
    return RepeatApplication(
        f"同一申请人已有该事项的办件正在办理：{numbers}。如确需再次申请，请勾选确认后重新提交；"
        "否则请在“我的办件”中查看原办件。",
        details={
            "open_cases": [
                {
                    "number": case.number,
                    "status": case.status,
                    "status_label": case.get_status_display(),
                    "submitted_at": case.submitted_at.isoformat(),
                }
                for case in open_cases
            ]
        },
    )


@transaction.atomic
def submit_application(
    *,
    item: ServiceItem,
    idempotency_key: str,
    form_data: dict[str, str],
    uploads: Sequence[Upload] = (),
    applicant: User | None = None,
    registered_by: User | None = None,
    applicant_name: str = "",
    applicant_id_number: str = "",
    applicant_phone: str = "",
    confirm_repeat: bool = False,
) -> Case:
    """Create a case against ``item``'s guide version in force: online by ``applicant`` (name, ID and
    phone from the account) or at a window by ``registered_by`` for a walk-in applicant.

    Idempotent: the same ``idempotency_key`` from the same account returns the case already created
    (before any other check, so a resubmitted page never creates a second case).
    Refused, with nothing stored:
    - an online applicant whose account type the item's 服务对象 excludes (``service_object_refusal``);
    - bad input: ``DomainError`` whose ``details["errors"]`` lists every problem at once (form fields,
      missing materials, each bad file with its name and reason, texts over ``TextLimit``);
    - a second application of the same person (``applicant_identity``) for the same item while an
      earlier one is open, unless ``confirm_repeat``: ``RepeatApplication``. A partial unique index
      makes this hold when two submissions race;
    - a window registration by a non-officer: ``PermissionDeniedError``.
    Only the guide's form fields are kept from ``form_data``.
    """
    if not idempotency_key or len(idempotency_key) > 64:
        raise DomainError("提交标识无效，请刷新页面后重新提交。", code="invalid_application")
    owner = {"applicant": applicant} if applicant is not None else {"registered_by": registered_by}
    existing = Case.objects.filter(idempotency_key=idempotency_key, **owner).first()
    if existing is not None:
        if existing.item_id != item.pk:
            raise DomainError("该提交标识已用于其他申请，请刷新页面后重新提交。", code="invalid_application")
        return existing
    version = item.current_version
    if version is None or not item.is_active:
        raise DomainError("该事项暂不受理网上申请。", code="item_unavailable")
    if registered_by is not None:
        if not _has_any_role(registered_by, (Role.WINDOW_OFFICER,)):
            raise PermissionDeniedError("只有窗口工作人员可以代为登记申请。")
        name, id_number, phone = applicant_name.strip(), applicant_id_number.strip(), applicant_phone.strip()
        channel, intake = Channel.WINDOW, registered_by.organisation
    elif applicant is not None:
        refusal = service_object_refusal(item, applicant)
        if refusal:
            raise DomainError(refusal, code="service_object_mismatch")
        name = applicant.enterprise_name or applicant.full_name or applicant.username
        id_number, phone = applicant.id_number or "", applicant.phone
        channel, intake = Channel.ONLINE, Organisation.objects.get(code=CENTRE_CODE)
    else:
        raise DomainError("缺少申请人。", code="invalid_application")
    fields = version.content.get("form_fields") or []
    problems = _form_problems(fields, form_data)
    if applicant is not None:
        uploaded = {upload.material_name for upload in uploads}
        problems.extend(f"请上传“{name}”。" for name in required_uploads(item) if name not in uploaded)
    if not name:
        problems.append("请填写申请人姓名或名称。")
    problems.extend(length_problems([("申请人姓名或名称", name, TextLimit.TITLE)]))
    if id_number:
        try:
            id_number = identity.normalise_id_number(id_number)
        except Exception as error:  # noqa: BLE001  # Django ValidationError with the Chinese reason
            problems.append(getattr(error, "messages", [str(error)])[0])
    if phone:
        try:
            identity.validate_mobile(phone)
        except Exception as error:  # noqa: BLE001  # as above
            problems.append(getattr(error, "messages", [str(error)])[0])
    types, file_problems = upload_problems(uploads)
    problems.extend(file_problems)
    if problems:
        raise DomainError(
            "申请未提交：" + "；".join(problems), code="invalid_application", details={"errors": problems}
        )
    person = applicant_identity(applicant=applicant, id_number=id_number)
    open_cases = list_open_applications(item=item, person=person)
    if open_cases and not confirm_repeat:
        raise _repeat(open_cases)
    now = timezone.now()
    try:
        with transaction.atomic():
            case = Case.objects.create(
                number=_next_number(local_date(now)),
                item=item,
                guide_version=version,
                organisation=item.organisation,
                intake_organisation=intake,
                channel=channel,
                applicant=applicant,
                registered_by=registered_by,
                applicant_name=name,
                applicant_id_number=id_number,
                applicant_phone=phone,
                applicant_identity=person,
                repeat_confirmed=bool(open_cases),
                idempotency_key=idempotency_key,
                form_data={field["key"]: str(form_data.get(field["key"], "")).strip() for field in fields},
                submitted_at=now,
            )
    except IntegrityError:
        # The same submission arrived twice at once (the other request created the case), or another
        # submission of the same person for the same item won the race: it now needs confirming.
        existing = Case.objects.filter(idempotency_key=idempotency_key, **owner).first()
        if existing is not None:
            return existing
        raise _repeat(list_open_applications(item=item, person=person)) from None
    with files.discarding_on_failure():  # no stored file without its row
        _store_attachments(case, uploads, applicant or registered_by, types)
        _event(
            case, action="submitted", from_status="", actor=applicant or registered_by, note=f"{len(uploads)} 个文件"
        )
    return case


def required_uploads(item: ServiceItem) -> list[str]:
    """Names of the materials an online applicant must upload for ``item``'s guide in force: required,
    unconditional, not an online form, not replaced by an electronic licence or shared data (the
    platform fetches those: 国发〔2024〕3号 一套材料; the dated ``SharedEvidence`` table)."""
    evidence = catalog_services.current_evidence()
    names = []
    for material in item.current_version.content.get("materials", []) if item.current_version else []:
        if not material.get("required", True) or material.get("substitute") or material.get("condition"):
            continue
        if material.get("form") == "online_form" or any(entry.matches(material["name"]) for entry in evidence):
            continue
        names.append(material["name"])
    return names


def _form_problems(fields: list[dict[str, Any]], data: dict[str, str]) -> list[str]:
    problems = []
    for field in fields:
        value = str(data.get(field["key"], "")).strip()
        if field.get("required", True) and not value:
            problems.append(f"请填写{field['label']}。")
        elif problem := length_problem(field["label"], value, TextLimit.FIELD):
            problems.append(problem)
    return problems


# ---- the state machine -------------------------------------------------------------------------


def _has_any_role(user: User, roles: Sequence[str]) -> bool:
    return has_role(user, *roles)


def can_handle(user: User, case: Case, roles: Sequence[str] = (Role.WINDOW_OFFICER, Role.APPROVER)) -> bool:
    """Whether ``user`` holds one of ``roles`` and may see the case's department or intake window."""
    if not _has_any_role(user, roles):
        return False
    visible = visible_organisation_ids(user)
    return visible is None or case.organisation_id in visible or case.intake_organisation_id in visible


def _locked(
    case: Case, *, actor: User, expected_version: int | None, allowed: Sequence[str], roles: Sequence[str]
) -> Case:
    """The case row, locked; refuses an actor without the role, a stale page and a wrong state."""
    locked = Case.objects.select_for_update(of=("self",)).select_related("guide_version", "item").get(pk=case.pk)
    if not can_handle(actor, locked, roles):
        raise PermissionDeniedError("您没有处理该办件的权限。")
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(
            f"该办件已被他人处理（当前状态：{locked.get_status_display()}），请刷新页面后再操作。",
            code="case_changed",
        )
    if locked.status not in allowed:
        raise Conflict(f"该办件当前状态为“{locked.get_status_display()}”，不能执行此操作。", code="invalid_transition")
    return locked


def _event(case: Case, *, action: str, from_status: str, actor: User | None, note: str = "") -> None:
    CaseEvent.objects.create(
        case=case,
        action=action,
        from_status=from_status,
        to_status=case.status,
        actor=actor,
        occurred_at=timezone.now(),
        note=note,
    )
    audit.record_event(
        action=f"case.{action}",
        actor=actor,
        target=case,
        changes={"status": [from_status, case.status], "number": case.number},
        message=note[:500],
    )


def _move(case: Case, *, to: str, actor: User, action: str, note: str = "", fields: Sequence[str] = ()) -> Case:
    from_status = case.status
    case.status = to
    case.version += 1
    case.save(update_fields=["status", "version", *fields])
    _event(case, action=action, from_status=from_status, actor=actor, note=note)
    return case


def _producers_not_done(case: Case) -> list[Case]:
    """The earlier sub-cases of the same bundle whose result this sub-case's materials use
    (``produced_in_bundle``) and that are not approved yet."""
    if case.bundle_case_id is None:
        return []
    bundle_case = BundleCase.objects.select_related("bundle").get(pk=case.bundle_case_id)
    link = bundle_case.bundle.bundleitem_set.filter(item=case.item).first()
    materials = (link.materials if link else []) + list(case.guide_version.content.get("materials", []))
    produced = [material["name"] for material in materials if material.get("substitute") == "produced_in_bundle"]
    if not produced:
        return []
    waiting = []
    for other in bundle_case.sub_cases.select_related("item", "guide_version").filter(id__lt=case.pk).order_by("id"):
        result = (other.guide_version.content.get("result_name") or "").strip()
        if result and any(result in name for name in produced) and other.status not in _DONE:
            waiting.append(other)
    return waiting


_DONE = (CaseStatus.APPROVED, CaseStatus.DELIVERED, CaseStatus.CLOSED)


def _require_bundle_route(case: Case, via_bundle: BundleCase | None) -> None:
    """Intake steps of a 一件事 sub-case (accept, decline, correct, answer) go through the bundle, so
    the applicant gets one notice and one clock."""
    if case.bundle_case_id is not None and (via_bundle is None or via_bundle.pk != case.bundle_case_id):
        raise Conflict("该办件属于“一件事”，请在一件事办件页统一受理、补正。", code="bundle_step")


def _working_day_limit(limit: dict[str, Any] | None) -> int | None:
    return int(limit["value"]) if limit and limit.get("unit") == "working_days" else None


def refresh_deadlines(case: Case, now: datetime | None = None) -> None:
    """Recompute the stored deadlines from the limits, the acceptance instant and the pauses (the
    sweep of supervision reads ``due_at``, ``warning_at`` and ``pause_alert_at``, the instants at which
    its rules fire; the warning share and the pause limit are the dated rules ``supervision.*``).

    Working-day limits end on a working day (行政许可法 第八十二条); natural-day limits end on the
    first working day after a day off (民法典 第二百零三条). An approved extension
    (``statutory_extension_days``, 第四十二条) moves the statutory deadline; an approved licence has a
    ``service_deadline`` (``service_limit_days`` working days from the decision, 第四十四条).
    ``deadline_is_provisional`` is set when any of these instants depends on a year whose holiday
    notice is not loaded."""
    if case.accepted_at is None:
        return
    now = now or timezone.now()
    calendar = get_calendar()
    pauses = [Pause(start=pause.started_at, end=pause.ended_at) for pause in case.pauses.all()]
    content = case.guide_version.content
    provisional: set[int] = set()
    for field, days, kind, extension in (
        ("promised_deadline", case.promised_limit_days, "promised_limit", 0),
        ("statutory_deadline", case.statutory_limit_days, "statutory_limit", case.statutory_extension_days),
    ):
        arguments = {"started_at": case.accepted_at, "pauses": pauses, "now": now}
        limit = limit_of(content, kind)
        state = None
        if days is not None:
            state = clock_state(calendar, limit_days=days, extension_days=extension, **arguments)  # type: ignore[arg-type]
        elif limit is not None and limit[1] == NATURAL_DAYS:
            state = clock_state(calendar, limit_days=limit[0], unit=NATURAL_DAYS, **arguments)  # type: ignore[arg-type]
        setattr(case, field, state.deadline if state else None)
        provisional.update(state.provisional_years if state else ())
    case.due_at = case.promised_deadline or case.statutory_deadline
    governing = case.promised_limit_days
    if governing is None and case.statutory_limit_days is not None:
        governing = case.statutory_limit_days + case.statutory_extension_days
    case.warning_at = None
    if governing is not None:
        case.warning_at = warning_instant(
            calendar,
            started_at=case.accepted_at,
            limit_days=governing,
            pauses=pauses,
            now=now,
            share=float(rules.get_rule_value("supervision.warning_share")),
        )
    open_pause = next((pause for pause in pauses if pause.end is None), None)
    case.pause_alert_at = None
    if open_pause is not None:
        days = int(rules.get_rule_value("supervision.pause_alert_days"))
        alert_day = calendar.add_working_days(local_date(open_pause.start), days)
        case.pause_alert_at = end_of_local_day(alert_day)
        provisional.update(calendar.provisional_years(local_date(open_pause.start), alert_day))
    case.service_deadline = None
    if case.decided_at is not None and case.service_limit_days is not None:
        service = clock_state(
            calendar, started_at=case.decided_at, limit_days=case.service_limit_days, pauses=[], now=now
        )
        case.service_deadline = service.deadline
        provisional.update(service.provisional_years)
    case.deadline_is_provisional = bool(provisional)
    case.save(
        update_fields=[
            "promised_deadline",
            "statutory_deadline",
            "due_at",
            "warning_at",
            "pause_alert_at",
            "service_deadline",
            "deadline_is_provisional",
        ]
    )


DEADLINE_FIELDS = (
    "promised_deadline",
    "statutory_deadline",
    "due_at",
    "warning_at",
    "pause_alert_at",
    "service_deadline",
)


def recompute_deadlines(*, years: Sequence[int], now: datetime | None = None) -> int:
    """Recompute the stored deadlines of every accepted, undecided case, and of every approved licence
    not yet served, whose clock spans one of ``years`` (after a holiday notice is imported): each case
    is locked and refreshed in its own
    transaction, and a case whose instants change gets a ``deadlines_recomputed`` event with the old and
    new deadline. Supervision follows, as its sweep reads the stored instants. Returns the number of
    cases whose deadlines changed."""
    now = now or timezone.now()
    first = end_of_local_day(date(min(years), 1, 1) - timedelta(days=1))
    last = end_of_local_day(date(max(years), 12, 31))
    # A paused case's stored instants date from its last transition while its clock keeps moving them:
    # every paused case is looked at again.
    spans_year = Q(deadline_is_provisional=True) | Q(status__in=PAUSED_STATUSES)
    for field in DEADLINE_FIELDS:
        spans_year |= Q(**{f"{field}__gt": first})
    undecided = Q(decided_at__isnull=True, status__in=(CaseStatus.ACCEPTED, *PAUSED_STATUSES))
    awaiting_service = Q(status=CaseStatus.APPROVED, service_deadline__isnull=False)
    candidates = (
        Case.objects.filter(accepted_at__isnull=False, accepted_at__lte=last)
        .filter(undecided | awaiting_service)
        .filter(spans_year)
        .values_list("pk", flat=True)
    )
    changed = 0
    for case_id in list(candidates):
        with transaction.atomic():
            case = Case.objects.select_for_update().select_related("guide_version").get(pk=case_id)
            before = {field: getattr(case, field) for field in DEADLINE_FIELDS}
            was_provisional = case.deadline_is_provisional
            refresh_deadlines(case, now)
            after = {field: getattr(case, field) for field in DEADLINE_FIELDS}
            if before == after and was_provisional == case.deadline_is_provisional:
                continue
            changed += 1
            note = "国务院节假日安排通知已导入，办理期限按正式安排重新计算"
            if before["due_at"] != after["due_at"]:
                note += f"：期限由 {_local_text(before['due_at'])} 调整为 {_local_text(after['due_at'])}"
            elif before["service_deadline"] != after["service_deadline"]:
                note += (
                    f"：送达期限由 {_local_text(before['service_deadline'])} "
                    f"调整为 {_local_text(after['service_deadline'])}"
                )
            if case.status in PAUSED_STATUSES:
                note += "（暂停计时中，期限随暂停天数顺延）"
            CaseEvent.objects.create(
                case=case,
                action="deadlines_recomputed",
                from_status=case.status,
                to_status=case.status,
                occurred_at=now,
                note=note + "。",
            )
    return changed


def _local_text(instant: datetime | None) -> str:
    return f"{local_date(instant):%Y-%m-%d}" if instant else "无"


@transaction.atomic
def accept_case(
    *, case: Case, actor: User, expected_version: int | None = None, via_bundle: BundleCase | None = None
) -> Case:
    """受理: the clock starts (statutory and promised limits of the case's guide version, a licence's
    statutory limit capped by 行政许可法 第四十二条: ``statutory_limit_days``; in a 一件事, the bundle's
    promised limit governs, and the steps it does not count, such as 制卡, are recorded as special
    procedures that stop the clock). A 一件事 sub-case is accepted only through its bundle."""
    case = _locked(case, actor=actor, expected_version=expected_version, allowed=[CaseStatus.SUBMITTED], roles=_INTAKE)
    _require_bundle_route(case, via_bundle)
    if CitywideTransfer.objects.filter(case=case, direction=TransferDirection.OUTGOING).exists():
        raise Conflict("全市通办件由办理地受理，请在材料移交后登记办理地受理时间。", code="accepted_elsewhere")
    content = case.guide_version.content
    case.accepted_at = timezone.now()
    case.statutory_limit_days = statutory_limit_days(case)
    case.promised_limit_days = _working_day_limit(content.get("promised_limit"))
    if via_bundle is not None and via_bundle.promised_limit_days is not None:
        case.promised_limit_days = via_bundle.promised_limit_days
    _move(
        case,
        to=CaseStatus.ACCEPTED,
        actor=actor,
        action="accepted",
        fields=["accepted_at", "statutory_limit_days", "promised_limit_days"],
    )
    refresh_deadlines(case)
    return case


@transaction.atomic
def decline_case(*, case: Case, actor: User, reason: str, expected_version: int | None = None) -> Case:
    """不予受理, with the reason told to the applicant (required)."""
    if not reason.strip():
        raise DomainError("不予受理必须说明理由。", code="reason_required")
    check_lengths(("不予受理理由", reason, TextLimit.OPINION))
    case = _locked(case, actor=actor, expected_version=expected_version, allowed=[CaseStatus.SUBMITTED], roles=_INTAKE)
    _require_bundle_route(case, None)
    case.decision_reason = reason.strip()
    case.closed_at = timezone.now()
    return _move(
        case,
        to=CaseStatus.DECLINED,
        actor=actor,
        action="declined",
        note=case.decision_reason,
        fields=["decision_reason", "closed_at"],
    )


@transaction.atomic
def request_correction(
    *,
    case: Case,
    actor: User,
    missing: Sequence[str],
    expected_version: int | None = None,
    via_bundle: BundleCase | None = None,
    beyond_guide: int | None = None,
) -> Case:
    """补正 (一次性告知): one notice listing every missing item; the clock stops until the applicant
    answers. ``missing`` is the list of what is missing, one entry each (at least one; each at most
    ``TextLimit.LINE`` characters, the whole notice at most ``TextLimit.REPORT``)."""
    items = [entry.strip() for entry in missing if entry and entry.strip()]
    if not items:
        raise DomainError("补正通知须一次性列明需补正的全部内容。", code="correction_empty")
    check_lines("需补正的内容", items, limit=TextLimit.LINE, total_limit=TextLimit.REPORT)
    case = _locked(case, actor=actor, expected_version=expected_version, allowed=[CaseStatus.ACCEPTED], roles=_INTAKE)
    _require_bundle_route(case, via_bundle)
    CasePause.objects.create(
        case=case, kind=PauseKind.CORRECTION, name="补正", details=items, started_at=timezone.now()
    )
    case.correction_count += 1
    if beyond_guide is None:
        beyond_guide = sum(
            1 for entry in items if not _in_guide(entry, case.guide_version.content.get("materials", []))
        )
    case.corrections_beyond_guide += beyond_guide
    _move(
        case,
        to=CaseStatus.CORRECTION_REQUESTED,
        actor=actor,
        action="correction_requested",
        note="；".join(items),
        fields=["correction_count", "corrections_beyond_guide"],
    )
    refresh_deadlines(case)
    return case


def _in_guide(entry: str, materials: Sequence[dict[str, Any]]) -> bool:
    """Whether a correction item names a material the guide asks the applicant for (补正 may only ask
    for what the guide lists; a material the guide marks 免提交 — e-licence, shared data, produced in
    the bundle — counts as beyond the guide too)."""
    text = entry.replace(" ", "")
    for material in materials:
        name = str(material.get("name", "")).replace(" ", "")
        if name and (name in text or text in name):
            return not material.get("substitute")
    return False


@transaction.atomic
def submit_correction(
    *,
    case: Case,
    actor: User,
    uploads: Sequence[Upload] = (),
    note: str = "",
    expected_version: int | None = None,
    via_bundle: BundleCase | None = None,
) -> Case:
    """The applicant (or the window for them) answers a correction request; the clock runs again."""
    check_lengths(("补正说明", note, TextLimit.OPINION))
    types = _checked_uploads(uploads)
    locked = Case.objects.select_for_update(of=("self",)).select_related("guide_version").get(pk=case.pk)
    is_applicant = locked.applicant_id is not None and locked.applicant_id == actor.pk
    if not is_applicant and not can_handle(actor, locked, _INTAKE):
        raise PermissionDeniedError("您没有处理该办件的权限。")
    if expected_version is not None and locked.version != expected_version:
        raise Conflict("该办件已有变化，请刷新页面后再操作。", code="case_changed")
    if locked.status != CaseStatus.CORRECTION_REQUESTED:
        raise Conflict(f"该办件当前状态为“{locked.get_status_display()}”，无需补正。", code="invalid_transition")
    _require_bundle_route(locked, via_bundle)
    if not uploads and not note.strip():
        raise DomainError("请上传补正材料或填写补正说明。", code="correction_empty")
    with files.discarding_on_failure():  # no stored file without its row
        _store_attachments(locked, uploads, actor, types)
        locked.pauses.filter(ended_at__isnull=True).update(ended_at=timezone.now())
        _move(locked, to=CaseStatus.ACCEPTED, actor=actor, action="corrected", note=note.strip())
        refresh_deadlines(locked)
    return locked


@transaction.atomic
def start_special_procedure(
    *, case: Case, actor: User, name: str, legal_basis: str, expected_version: int | None = None
) -> Case:
    """特殊环节 (听证, 检验检测, 专家评审 …, 行政许可法 第四十五条): the clock stops; name and legal basis
    are required and told to the applicant."""
    if not name.strip() or not legal_basis.strip():
        raise DomainError("特殊环节须写明环节名称和法律依据。", code="special_procedure_incomplete")
    check_lengths(("特殊环节名称", name, TextLimit.NAME), ("法律依据", legal_basis, TextLimit.LINE))
    case = _locked(case, actor=actor, expected_version=expected_version, allowed=[CaseStatus.ACCEPTED], roles=_DECIDE)
    CasePause.objects.create(
        case=case,
        kind=PauseKind.SPECIAL_PROCEDURE,
        name=name.strip(),
        legal_basis=legal_basis.strip(),
        started_at=timezone.now(),
    )
    _move(
        case,
        to=CaseStatus.SPECIAL_PROCEDURE,
        actor=actor,
        action="special_procedure_started",
        note=f"{name.strip()}（{legal_basis.strip()}）",
    )
    refresh_deadlines(case)
    return case


@transaction.atomic
def end_special_procedure(*, case: Case, actor: User, note: str = "", expected_version: int | None = None) -> Case:
    check_lengths(("说明", note, TextLimit.OPINION))
    case = _locked(
        case, actor=actor, expected_version=expected_version, allowed=[CaseStatus.SPECIAL_PROCEDURE], roles=_DECIDE
    )
    case.pauses.filter(ended_at__isnull=True).update(ended_at=timezone.now())
    _move(case, to=CaseStatus.ACCEPTED, actor=actor, action="special_procedure_ended", note=note.strip())
    refresh_deadlines(case)
    return case


@transaction.atomic
def approve_case(*, case: Case, actor: User, note: str = "", expected_version: int | None = None) -> Case:
    """准予: the department's decision (审批人员). In a 一件事, an item that uses a document an earlier
    item produces (出生登记 uses the 出生医学证明) waits until that item is approved. ``note`` (审批意见)
    is at most ``TextLimit.OPINION`` characters. An approved licence must be served within
    ``workdays.licence_service_limit`` working days (行政许可法 第四十四条): ``service_deadline``."""
    check_lengths(("审批意见", note, TextLimit.OPINION))
    case = _locked(case, actor=actor, expected_version=expected_version, allowed=[CaseStatus.ACCEPTED], roles=_DECIDE)
    waiting = _producers_not_done(case)
    if waiting:
        raise Conflict(
            "须待“"
            + "”“".join(producer.item.name for producer in waiting)
            + "”办结后才能办理本事项（本事项使用其办理结果）。",
            code="waiting_for_earlier_step",
        )
    case.decided_at = timezone.now()
    case.decision_reason = note.strip()
    if catalog_selectors.is_licensing_item(case.item):
        case.service_limit_days = int(rules.get_rule_value(LICENCE_SERVICE_LIMIT, local_date(case.decided_at)))
    _move(
        case,
        to=CaseStatus.APPROVED,
        actor=actor,
        action="approved",
        note=case.decision_reason,
        fields=["decided_at", "decision_reason", "service_limit_days"],
    )
    refresh_deadlines(case)
    return case


@transaction.atomic
def refuse_case(*, case: Case, actor: User, reason: str, legal_basis: str, expected_version: int | None = None) -> Case:
    """不予许可 / 不予办理: reason and legal basis are required (行政许可法 第三十八条)."""
    if not reason.strip() or not legal_basis.strip():
        raise DomainError("不予办理必须说明理由和法律依据。", code="reason_required")
    check_lengths(("不予办理理由", reason, TextLimit.OPINION), ("法律依据", legal_basis, TextLimit.LINE))
    case = _locked(case, actor=actor, expected_version=expected_version, allowed=[CaseStatus.ACCEPTED], roles=_DECIDE)
    case.decided_at = timezone.now()
    case.decision_reason = reason.strip()
    case.decision_legal_basis = legal_basis.strip()
    return _move(
        case,
        to=CaseStatus.REFUSED,
        actor=actor,
        action="refused",
        note=f"{case.decision_reason}（依据：{case.decision_legal_basis}）",
        fields=["decided_at", "decision_reason", "decision_legal_basis"],
    )


@transaction.atomic
def deliver_result(
    *, case: Case, actor: User, method: str, tracking_number: str = "", expected_version: int | None = None
) -> Case:
    """送达: pick-up at the window, post (tracking number required) or electronic licence."""
    if method not in DeliveryMethod.values:
        raise DomainError("请选择送达方式：窗口领取、邮寄送达或电子证照。", code="invalid_delivery")
    if method == DeliveryMethod.POST and not TRACKING_NUMBER.match(tracking_number.strip()):
        raise DomainError("邮寄送达须填写邮件单号（6 到 40 位字母、数字或短横线）。", code="invalid_delivery")
    case = _locked(
        case,
        actor=actor,
        expected_version=expected_version,
        allowed=[CaseStatus.APPROVED, CaseStatus.REFUSED],
        roles=_INTAKE,
    )
    case.delivery_method = method
    case.tracking_number = tracking_number.strip()[:40]
    case.delivered_at = timezone.now()
    return _move(
        case,
        to=CaseStatus.DELIVERED,
        actor=actor,
        action="delivered",
        note=DeliveryMethod(method).label + (f" {case.tracking_number}" if case.tracking_number else ""),
        fields=["delivery_method", "tracking_number", "delivered_at"],
    )


@transaction.atomic
def close_case(*, case: Case, actor: User, expected_version: int | None = None) -> Case:
    """办结: the result has reached the applicant."""
    case = _locked(case, actor=actor, expected_version=expected_version, allowed=[CaseStatus.DELIVERED], roles=_INTAKE)
    case.closed_at = timezone.now()
    return _move(case, to=CaseStatus.CLOSED, actor=actor, action="closed", fields=["closed_at"])


_INTAKE = (Role.WINDOW_OFFICER,)
_DECIDE = (Role.APPROVER,)


# ---- 行政许可法: the statutory limit, its extension, serving the licence -----------------------------

LICENCE_DECISION_LIMIT = "workdays.licence_decision_limit"
LICENCE_DECISION_EXTENSION = "workdays.licence_decision_extension"
LICENCE_JOINT_HANDLING_EXTENSION = "workdays.licence_joint_handling_extension"
LICENCE_SERVICE_LIMIT = "workdays.licence_service_limit"
# States in which the decision is still to be made: a request made under review may be approved in them.
UNDECIDED = (CaseStatus.ACCEPTED, *PAUSED_STATUSES)
EXTENSION_TOPIC = "case_extension"


def statutory_limit_days(case: Case) -> int | None:
    """The statutory limit of ``case`` in working days, fixed when its clock starts, or ``None`` (no
    working-day limit: the guide sets none, or sets natural days).

    The guide's own limit; for a licence (``catalog.selectors.is_licensing_item``) the limit of
    行政许可法 第四十二条 (``workdays.licence_decision_limit`` on the acceptance day, 20 working days)
    unless the guide states a shorter one (a law or regulation may set one: 市场主体登记管理条例 第十九条
    gives 3). A licence whose guide gives a natural-day limit keeps it (the guide checks flag it)."""
    content = case.guide_version.content
    guide = _working_day_limit(content.get("statutory_limit"))
    if not catalog_selectors.is_licensing_item(case.item):
        return guide
    natural = limit_of(content, "statutory_limit")
    if guide is None and natural is not None and natural[1] == NATURAL_DAYS:
        return None
    law = int(rules.get_rule_value(LICENCE_DECISION_LIMIT, local_date(case.accepted_at or timezone.now())))
    return law if guide is None else min(guide, law)


def is_department_approver(user: User, case: Case) -> bool:
    """Whether ``user`` is a 审批人员 of the department that decides ``case`` (or of an organisation
    above it): on the platform, the head of the agency who approves an extension (第四十二条)."""
    return case.organisation_id in _approver_organisations(user)


def _approver_organisations(user: User) -> set[int]:
    """The organisations in which ``user`` holds the 审批人员 role, with those below them."""
    if user.account_type != AccountType.STAFF:
        return set()
    roots = {item.organisation_id for item in user.role_assignments.all() if item.role == Role.APPROVER}
    return with_descendants(roots) if roots else set()


def _statutory_state(case: Case, now: datetime) -> ClockState:
    pauses = [Pause(start=pause.started_at, end=pause.ended_at) for pause in case.pauses.all()]
    return clock_state(
        get_calendar(),
        started_at=case.accepted_at,  # type: ignore[arg-type]  # accepted: checked by the callers
        limit_days=case.statutory_limit_days,  # type: ignore[arg-type]  # as above
        extension_days=case.statutory_extension_days,
        pauses=pauses,
        now=now,
    )


def extension_refusal(case: Case, now: datetime | None = None) -> str:
    """Why an extension of ``case`` under 行政许可法 第四十二条 cannot be asked for now, in Chinese, or
    ``""``: not a licence, not under review (submitted, paused for a correction or a special procedure,
    decided), no working-day statutory limit, extended once already, a request waiting, or the
    statutory deadline already passed (the extension must be approved within it)."""
    if not catalog_selectors.is_licensing_item(case.item):
        return f"“{case.item.name}”不是行政许可事项，不适用《行政许可法》第四十二条延长审批期限。"
    if case.accepted_at is None or case.status != CaseStatus.ACCEPTED:
        return f"该办件当前状态为“{case.get_status_display()}”，只有审查中的办件才能申请延长审批期限。"
    if case.statutory_limit_days is None:
        return "该办件没有按工作日计算的法定时限，不能按《行政许可法》第四十二条延长。"
    extensions = list(case.extensions.all())
    approved = next((item for item in extensions if item.status == ExtensionStatus.APPROVED), None)
    if approved is not None or case.statutory_extension_days:
        days = approved.days if approved else case.statutory_extension_days
        return f"该办件已延长过一次审批期限（{days} 个工作日），依法只能延长一次。"
    if any(item.status == ExtensionStatus.REQUESTED for item in extensions):
        return "该办件已有待负责人批准的延期申请，不能重复申请。"
    state = _statutory_state(case, now or timezone.now())
    if state.is_overdue:
        return f"法定办理期限已于 {local_date(state.deadline):%Y-%m-%d} 届满，不能再延长审批期限。"
    return ""


@transaction.atomic
def request_extension(*, case: Case, actor: User, reason: str) -> DeadlineExtension:
    """延长审批期限, step 1: the handler (window officer or 审批人员 of the case) asks for the extension of
    行政许可法 第四十二条 (``workdays.licence_decision_extension`` working days, once) with the reason that
    will be told to the applicant (required, at most ``TextLimit.OPINION`` characters). The case row is
    locked; the request waits for ``approve_extension``.

    Raises ``DomainError`` (no reason), ``PermissionDeniedError`` (not a handler of the case) and
    ``Conflict`` with the reason of ``extension_refusal``; nothing is stored then."""
    if not reason.strip():
        raise DomainError("延长审批期限须写明理由（将告知申请人）。", code="reason_required")
    check_lengths(("延长理由", reason, TextLimit.OPINION))
    case = _locked(case, actor=actor, expected_version=None, allowed=UNDECIDED, roles=(*_INTAKE, *_DECIDE))
    now = timezone.now()
    refusal = extension_refusal(case, now)
    if refusal:
        raise Conflict(refusal, code="extension_refused")
    try:
        with transaction.atomic():
            extension = DeadlineExtension.objects.create(
                case=case,
                kind=ExtensionKind.DECISION,
                days=int(rules.get_rule_value(LICENCE_DECISION_EXTENSION, local_date(now))),
                legal_basis="《中华人民共和国行政许可法》第四十二条第一款",
                reason=reason.strip(),
                requested_by=actor,
                requested_at=now,
                deadline_before=case.statutory_deadline,
            )
    except IntegrityError:  # another request got in first (one live extension per case)
        raise Conflict("该办件已有延期申请或已延长，请刷新页面查看。", code="extension_refused") from None
    audit.record_event(
        action="case.extension_requested",
        actor=actor,
        target=case,
        changes={"days": extension.days, "number": case.number},
        message=extension.reason[:500],
    )
    return extension


def _locked_extension(extension: DeadlineExtension) -> DeadlineExtension:
    locked = DeadlineExtension.objects.select_for_update().get(pk=extension.pk)
    if locked.status != ExtensionStatus.REQUESTED:
        raise Conflict(f"该延期申请已审批（{locked.get_status_display()}），无需重复审批。", code="extension_decided")
    return locked


def _check_extension_approver(actor: User, extension: DeadlineExtension, *, allowed: bool) -> None:
    if not allowed:
        raise PermissionDeniedError("只有办理部门的审批负责人可以审批延长审批期限。")
    if actor.pk == extension.requested_by_id:
        raise PermissionDeniedError("延长审批期限须由申请延期以外的负责人批准，不能批准本人提出的申请。")


@transaction.atomic
def approve_extension(*, extension: DeadlineExtension, actor: User, note: str = "") -> Case:
    """延长审批期限, step 2: a 审批人员 of the deciding department (not the requester) approves. The
    statutory deadline moves by the request's working days, once (行政许可法 第四十二条); the case
    history and the applicant's page show the reason, and the applicant gets a message (outbox).

    Locks the case row, then the request: of two approvals at once one succeeds, the other gets
    ``Conflict`` (already approved). Refused with nothing changed: an actor who is not an approver of
    the department, or who asked (``PermissionDeniedError``); a decided case, or a statutory deadline
    already passed (``Conflict``: the extension must be approved within the 20 days)."""
    check_lengths(("审批意见", note, TextLimit.OPINION))
    if extension.case_id is None:
        raise DomainError("该申请不是办件的延期申请。", code="invalid_extension")
    case = (
        Case.objects.select_for_update(of=("self",)).select_related("guide_version", "item").get(pk=extension.case_id)
    )
    extension = _locked_extension(extension)
    _check_extension_approver(actor, extension, allowed=is_department_approver(actor, case))
    now = timezone.now()
    if case.status not in UNDECIDED:
        raise Conflict(f"该办件当前状态为“{case.get_status_display()}”，无需延长审批期限。", code="extension_refused")
    if case.statutory_extension_days:
        raise Conflict("该办件已延长过一次审批期限，依法只能延长一次。", code="extension_refused")
    before = _statutory_state(case, now)
    if before.is_overdue:
        raise Conflict(
            f"法定办理期限已于 {local_date(before.deadline):%Y-%m-%d} 届满，不能再批准延长。", code="extension_refused"
        )
    case.statutory_extension_days = extension.days
    case.save(update_fields=["statutory_extension_days"])
    refresh_deadlines(case, now)
    extension.status = ExtensionStatus.APPROVED
    extension.decided_by = actor
    extension.decided_at = now
    extension.decision_note = note.strip()
    extension.deadline_before = before.deadline
    extension.deadline_after = case.statutory_deadline
    extension.save()
    told = (
        f"经本机关负责人批准，法定办理期限延长 {extension.days} 个工作日，"
        f"至 {_local_text(case.statutory_deadline)}。延长理由：{extension.reason}"
    )
    _event(case, action="deadline_extended", from_status=case.status, actor=actor, note=told)
    _tell_applicant(
        case,
        topic=EXTENSION_TOPIC,
        key=f"{EXTENSION_TOPIC}:{extension.pk}",
        subject=f"办件{case.number}审批期限延长",
        body=f"【越秀政务】您的办件{case.number}（{case.item.name}）{told}",
    )
    return case


@transaction.atomic
def reject_extension(*, extension: DeadlineExtension, actor: User, note: str) -> DeadlineExtension:
    """The approver does not approve the extension (the reason is required; the case keeps its
    deadline and the handler may ask again with new reasons while the deadline runs)."""
    if not note.strip():
        raise DomainError("不批准延期须写明意见。", code="reason_required")
    check_lengths(("审批意见", note, TextLimit.OPINION))
    target = extension.case or extension.bundle_case
    if extension.case_id is not None:
        case = Case.objects.select_for_update(of=("self",)).get(pk=extension.case_id)
        allowed = is_department_approver(actor, case)
    else:
        bundle_case = (
            BundleCase.objects.select_for_update(of=("self",)).select_related("bundle").get(pk=extension.bundle_case_id)
        )
        allowed = is_bundle_lead_approver(actor, bundle_case)
    extension = _locked_extension(extension)
    _check_extension_approver(actor, extension, allowed=allowed)
    extension.status = ExtensionStatus.REJECTED
    extension.decided_by = actor
    extension.decided_at = timezone.now()
    extension.decision_note = note.strip()
    extension.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    audit.record_event(
        action="case.extension_rejected" if extension.case_id is not None else "bundle_case.extension_rejected",
        actor=actor,
        target=target,
        message=extension.decision_note[:500],
    )
    return extension


def is_bundle_lead_approver(user: User, bundle_case: BundleCase) -> bool:
    """Whether ``user`` is a 审批人员 of the bundle's lead department (牵头部门), who approves a joint
    extension on the platform for the head of the 本级人民政府 (行政许可法 第四十二条第二款)."""
    lead = bundle_case.bundle.lead_organisation_id
    return lead is not None and lead in _approver_organisations(user)


def joint_extension_refusal(bundle_case: BundleCase, cases: Sequence[Case], now: datetime | None = None) -> str:
    """Why a 一件事 application cannot have its joint-handling limit extended now, in Chinese, or ``""``:
    no licence among its items, not accepted, every item decided, extended once already, a request
    waiting, or the 45 working days already over."""
    if not selectors.is_joint_licensing(list(cases)):
        return "该一件事不含行政许可事项，不适用《行政许可法》第四十二条第二款联合办理延期。"
    undecided = [case for case in cases if case.status in (CaseStatus.SUBMITTED, *UNDECIDED)]
    if not any(case.accepted_at for case in cases) or not undecided:
        return "只有受理后、各事项办结前才能延长联合办理期限。"
    extensions = list(bundle_case.extensions.all())
    approved = next((item for item in extensions if item.status == ExtensionStatus.APPROVED), None)
    if approved is not None:
        return f"该一件事已延长过一次联合办理期限（{approved.days} 个工作日），依法只能延长一次。"
    if any(item.status == ExtensionStatus.REQUESTED for item in extensions):
        return "该一件事已有待批准的延期申请，不能重复申请。"
    clock = selectors.joint_handling_clock(bundle_case, list(cases), "in_progress", now or timezone.now())
    if clock is not None and clock.is_overdue:
        return f"联合办理期限已于 {local_date(clock.deadline):%Y-%m-%d} 届满，不能再延长。"
    return ""


def _locked_bundle(pk: int) -> tuple[BundleCase, list[Case]]:
    """The application row and its sub-cases, locked in that order (as every bundle step locks)."""
    locked = BundleCase.objects.select_for_update(of=("self",)).select_related("bundle").get(pk=pk)
    cases = list(
        Case.objects.select_for_update(of=("self",)).select_related("item").filter(bundle_case=locked).order_by("id")
    )
    return locked, cases


@transaction.atomic
def request_joint_extension(*, bundle_case: BundleCase, actor: User, reason: str) -> DeadlineExtension:
    """延长联合办理期限, step 1: a window officer or 审批人员 of one of the sub-cases asks to extend the
    45 working days of joint handling by ``workdays.licence_joint_handling_extension`` (15, once,
    行政许可法 第四十二条第二款), with the reason told to the applicant. Raises ``DomainError`` (no
    reason), ``PermissionDeniedError`` and ``Conflict`` (``joint_extension_refusal``)."""
    if not reason.strip():
        raise DomainError("延长联合办理期限须写明理由（将告知申请人）。", code="reason_required")
    check_lengths(("延长理由", reason, TextLimit.OPINION))
    bundle_case, cases = _locked_bundle(bundle_case.pk)
    if not any(can_handle(actor, case) for case in cases):
        raise PermissionDeniedError("您没有处理该一件事的权限。")
    now = timezone.now()
    refusal = joint_extension_refusal(bundle_case, cases, now)
    if refusal:
        raise Conflict(refusal, code="extension_refused")
    try:
        with transaction.atomic():
            extension = DeadlineExtension.objects.create(
                bundle_case=bundle_case,
                kind=ExtensionKind.JOINT_HANDLING,
                days=int(rules.get_rule_value(LICENCE_JOINT_HANDLING_EXTENSION, local_date(now))),
                legal_basis="《中华人民共和国行政许可法》第四十二条第二款",
                reason=reason.strip(),
                requested_by=actor,
                requested_at=now,
            )
    except IntegrityError:
        raise Conflict("该一件事已有延期申请或已延长，请刷新页面查看。", code="extension_refused") from None
    audit.record_event(
        action="bundle_case.extension_requested",
        actor=actor,
        target=bundle_case,
        changes={"days": extension.days, "number": bundle_case.number},
        message=extension.reason[:500],
    )
    return extension


@transaction.atomic
def approve_joint_extension(*, extension: DeadlineExtension, actor: User, note: str = "") -> BundleCase:
    """延长联合办理期限, step 2: a 审批人员 of the bundle's lead department (not the requester) approves;
    the joint clock gets the request's working days, once; the applicant is told why (the bundle page
    and a message). Locks the application and its sub-cases, then the request; refusals as
    ``approve_extension``."""
    check_lengths(("审批意见", note, TextLimit.OPINION))
    if extension.bundle_case_id is None:
        raise DomainError("该申请不是一件事的延期申请。", code="invalid_extension")
    bundle_case, cases = _locked_bundle(extension.bundle_case_id)
    extension = _locked_extension(extension)
    _check_extension_approver(actor, extension, allowed=is_bundle_lead_approver(actor, bundle_case))
    now = timezone.now()
    before = selectors.joint_handling_clock(bundle_case, cases, "in_progress", now)
    if before is None or not any(case.status in (CaseStatus.SUBMITTED, *UNDECIDED) for case in cases):
        raise Conflict("各事项已办理完毕，无需延长联合办理期限。", code="extension_refused")
    if before.is_overdue:
        raise Conflict(
            f"联合办理期限已于 {local_date(before.deadline):%Y-%m-%d} 届满，不能再批准延长。", code="extension_refused"
        )
    extension.status = ExtensionStatus.APPROVED
    extension.decided_by = actor
    extension.decided_at = now
    extension.decision_note = note.strip()
    extension.deadline_before = before.deadline
    extension.save()
    after = selectors.joint_handling_clock(bundle_case, cases, "in_progress", now)
    extension.deadline_after = after.deadline if after else None
    extension.save(update_fields=["deadline_after"])
    told = (
        f"经批准，联合办理期限延长 {extension.days} 个工作日，至 {_local_text(extension.deadline_after)}。"
        f"延长理由：{extension.reason}"
    )
    audit.record_event(
        action="bundle_case.extension_approved",
        actor=actor,
        target=bundle_case,
        changes={"days": extension.days, "number": bundle_case.number},
        message=told[:500],
    )
    OutboxMessage.objects.get_or_create(
        dedupe_key=f"{EXTENSION_TOPIC}:{extension.pk}",
        defaults={
            "recipient": bundle_case.applicant,
            "phone": bundle_case.applicant.phone,
            "topic": EXTENSION_TOPIC,
            "subject": f"一件事{bundle_case.number}联合办理期限延长",
            "body": f"【越秀政务】您的“{bundle_case.bundle.name}”（{bundle_case.number}）{told}"[:500],
            "link": reverse("cases:bundle_detail", args=[bundle_case.number]),
        },
    )
    return bundle_case


def _tell_applicant(case: Case, *, topic: str, key: str, subject: str, body: str) -> None:
    """Queue a message to the applicant (the in-platform inbox and SMS, ``core.OutboxMessage``), once
    per ``key``; nothing when the applicant has neither an account nor a phone."""
    if case.applicant_id is None and not case.applicant_phone:
        return
    OutboxMessage.objects.get_or_create(
        dedupe_key=key,
        defaults={
            "recipient": case.applicant,
            "phone": case.applicant_phone,
            "topic": topic,
            "subject": subject[:200],
            "body": body[:500],
            "link": reverse("cases:detail", args=[case.number]),
        },
    )


# ---- 一件事: one application, a sub-case per item ------------------------------------------------


@transaction.atomic
def submit_bundle_application(
    *,
    bundle: ServiceBundle,
    applicant: User,
    idempotency_key: str,
    form_data: dict[str, str],
    uploads: Sequence[Upload] = (),
) -> BundleCase:
    """Apply for a 一件事 with its merged form (一表申请) and one set of materials (一套材料).

    Fans out into one sub-case per item of the bundle, each with the fields that item asks for and
    the files of the materials it needs (an upload's ``material_name`` is a merged material's name).
    Idempotent on ``idempotency_key``. The form is checked as the 材料预审 checks it
    (``catalog.services.precheck_bundle_form``) and every file as ``check_upload`` does; raises
    ``DomainError`` listing every problem at once (``details["errors"]``).
    """
    if not idempotency_key or len(idempotency_key) > 64:
        raise DomainError("提交标识无效，请刷新页面后重新提交。", code="invalid_application")
    existing = BundleCase.objects.filter(applicant=applicant, idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    if bundle.event_kind == "life" and applicant.account_type != AccountType.CITIZEN:
        raise DomainError("个人生活事件须由本人以自然人账号申请。", code="invalid_application")
    bundle = catalog_selectors.get_bundle(bundle.slug)
    links = list(bundle.bundleitem_set.all())
    if not links or any(link.item.current_version is None for link in links):
        raise DomainError("该一件事暂不受理网上申请。", code="item_unavailable")
    merged = catalog_selectors.merge_bundle(bundle)
    errors = list(catalog_services.precheck_bundle_form(merged=merged, data=form_data)["errors"].values())
    types, file_problems = upload_problems(uploads)
    errors.extend(file_problems)
    if errors:
        raise DomainError("申请未提交：" + "；".join(errors), code="invalid_application", details={"errors": errors})
    needed_by = {material.name: set(material.needed_by) for material in merged.materials}
    now = timezone.now()
    day = local_date(now)
    try:
        with transaction.atomic():
            bundle_case = BundleCase.objects.create(
                number=_next_number(day).replace("YX", "YJ", 1),
                bundle=bundle,
                applicant=applicant,
                applicant_name=(applicant.full_name or applicant.username)[:200],
                idempotency_key=idempotency_key,
                form_data={field.key: str(form_data.get(field.key, "")).strip() for field in merged.fields},
                # the limit of the bundle's flow in force on the day of the application (a dated flow
                # such as 信用修复一件事 under 58号令 or 36号令), kept for the life of the application
                promised_limit_days=catalog_selectors.bundle_promise(bundle, on=day).days,
                submitted_at=now,
            )
    except IntegrityError:
        return BundleCase.objects.get(applicant=applicant, idempotency_key=idempotency_key)
    centre = Organisation.objects.get(code=CENTRE_CODE)
    stored: dict[int, str] = {}
    with files.discarding_on_failure():  # no stored file without its row
        for position, link in enumerate(links, start=1):
            item = link.item
            keys = [field["key"] for field in (link.form_fields or item.current_version.content.get("form_fields", []))]  # type: ignore[union-attr]
            case = Case.objects.create(
                number=_next_number(day),
                bundle_case=bundle_case,
                item=item,
                guide_version=item.current_version,
                organisation=item.organisation,
                intake_organisation=centre,
                channel=Channel.ONLINE,
                applicant=applicant,
                applicant_name=bundle_case.applicant_name,
                applicant_id_number=applicant.id_number or "",
                applicant_phone=applicant.phone,
                idempotency_key=f"{idempotency_key}:{position}"[:64],
                form_data={key: bundle_case.form_data.get(key, "") for key in keys},
                submitted_at=now,
            )
            for index, (upload, content_type) in enumerate(zip(uploads, types, strict=True)):
                if item.name in needed_by.get(upload.material_name, {item.name}):
                    _attach_shared(case, upload, content_type, applicant, stored, index)
            _event(case, action="submitted", from_status="", actor=applicant, note=f"一件事 {bundle_case.number}")
    audit.record_event(
        action="bundle_case.submitted", actor=applicant, target=bundle_case, changes={"sub_cases": len(links)}
    )
    return bundle_case


def _attach_shared(
    case: Case,
    upload: Upload,
    content_type: str,
    actor: User,
    stored: dict[int, str],
    index: int,
) -> None:
    """Attach an upload to a sub-case; the file is written once and shared by the sub-cases that need it."""
    attachment = Attachment(
        case=case,
        material_name=upload.material_name[:200],
        original_name=upload.file_name[:255],
        content_type=content_type,
        size=len(upload.data),
        sha256=hashlib.sha256(upload.data).hexdigest(),
        uploaded_by=actor,
        uploaded_at=timezone.now(),
    )
    if index in stored:
        attachment.file.name = stored[index]
    else:
        name = files.unique_name(attachment.sha256[:32], _extension(content_type))
        files.save_field_file(attachment.file, name, ContentFile(upload.data))
        stored[index] = attachment.file.name
    attachment.save()


def _sub_cases(bundle_case: BundleCase) -> list[Case]:
    return list(Case.objects.select_for_update().filter(bundle_case=bundle_case).order_by("id"))


@transaction.atomic
def accept_bundle_case(*, bundle_case: BundleCase, actor: User) -> BundleCase:
    """The window accepts the whole application: every sub-case still submitted is accepted."""
    pending = [case for case in _sub_cases(bundle_case) if case.status == CaseStatus.SUBMITTED]
    if not pending:
        raise Conflict("该一件事已受理，无需重复操作。", code="invalid_transition")
    for case in pending:
        accept_case(case=case, actor=actor, via_bundle=bundle_case)
    return bundle_case


@transaction.atomic
def request_bundle_correction(*, bundle_case: BundleCase, actor: User, missing: Sequence[str]) -> BundleCase:
    """One correction notice for the whole application (一次性告知): every running sub-case stops."""
    running = [case for case in _sub_cases(bundle_case) if case.status == CaseStatus.ACCEPTED]
    if not running:
        raise Conflict("没有审查中的事项，不能发出补正通知。", code="invalid_transition")
    # One notice: its demands beyond the bundle's merged materials are recorded once, on the first
    # sub-case (the intake window answers for them, see supervision).
    merged = catalog_selectors.merge_bundle(catalog_selectors.get_bundle(bundle_case.bundle.slug))
    materials = [{"name": item.name, "substitute": item.substitute} for item in merged.materials]
    items = [entry.strip() for entry in missing if entry and entry.strip()]
    beyond = sum(1 for entry in items if not _in_guide(entry, materials))
    for position, case in enumerate(running):
        request_correction(
            case=case, actor=actor, missing=missing, via_bundle=bundle_case, beyond_guide=beyond if position == 0 else 0
        )
    return bundle_case


@transaction.atomic
def answer_bundle_correction(
    *, bundle_case: BundleCase, actor: User, uploads: Sequence[Upload] = (), note: str = ""
) -> BundleCase:
    """The applicant answers the correction once; every sub-case waiting for it runs again."""
    waiting = [case for case in _sub_cases(bundle_case) if case.status == CaseStatus.CORRECTION_REQUESTED]
    if not waiting:
        raise Conflict("该一件事无需补正。", code="invalid_transition")
    types = _checked_uploads(uploads)
    stored: dict[int, str] = {}
    with files.discarding_on_failure():  # no stored file without its row
        for case in waiting:
            for index, (upload, content_type) in enumerate(zip(uploads, types, strict=True)):
                _attach_shared(case, upload, content_type, actor, stored, index)
            submit_correction(case=case, actor=actor, note=note or "已补正", via_bundle=bundle_case)
    return bundle_case


@transaction.atomic
def deliver_bundle_case(*, bundle_case: BundleCase, actor: User, method: str, tracking_number: str = "") -> BundleCase:
    """One result for the applicant: when every item is decided, all results are delivered together
    (same method) and the sub-cases are closed."""
    cases = _sub_cases(bundle_case)
    if all(case.status in (CaseStatus.CLOSED, CaseStatus.DECLINED) for case in cases):
        raise Conflict("该一件事已送达办结，无需重复操作。", code="already_delivered")
    undecided = [
        case
        for case in cases
        if case.status not in (CaseStatus.APPROVED, CaseStatus.REFUSED, CaseStatus.DECLINED, CaseStatus.CLOSED)
    ]
    if undecided:
        names = "、".join(case.item.name for case in undecided)
        raise Conflict(f"尚有 {len(undecided)} 个事项未办理完毕：{names}。", code="bundle_not_decided")
    for case in cases:
        if case.status in (CaseStatus.APPROVED, CaseStatus.REFUSED):
            deliver_result(case=case, actor=actor, method=method, tracking_number=tracking_number)
            close_case(case=case, actor=actor)
    audit.record_event(action="bundle_case.delivered", actor=actor, target=bundle_case, changes={"method": method})
    return bundle_case


# ---- 全市通办: intake here, decision elsewhere (and the reverse) ------------------------------------


@transaction.atomic
def register_citywide_intake(
    *,
    case: Case,
    actor: User,
    direction: str,
    other_body: str,
    result_place: str,
) -> CitywideTransfer:
    """Mark a window-registered case as 全市通办: ``outgoing`` when the Yuexiu window takes it in for a
    body elsewhere (``other_body``, the home-area body), ``incoming`` when a window elsewhere took it in
    for Yuexiu. ``result_place``: where the applicant collects the result (intake / home / post)."""
    if direction not in TransferDirection.values or result_place not in ResultPlace.values:
        raise DomainError("请选择通办方向和结果领取方式。", code="invalid_transfer")
    if not other_body.strip():
        raise DomainError("请填写对方机构名称。", code="invalid_transfer")
    check_lengths(("对方机构", other_body, TextLimit.TITLE))
    case = _locked(case, actor=actor, expected_version=None, allowed=[CaseStatus.SUBMITTED], roles=_INTAKE)
    if CitywideTransfer.objects.filter(case=case).exists():
        raise Conflict("该办件已登记为全市通办。", code="transfer_exists")
    transfer = CitywideTransfer.objects.create(
        case=case, direction=direction, other_body=other_body.strip(), result_place=result_place
    )
    _event(
        case,
        action="citywide_registered",
        from_status=case.status,
        actor=actor,
        note=f"{transfer.get_direction_display()}：{transfer.other_body}",
    )
    return transfer


@transaction.atomic
def hand_over(*, case: Case, actor: User, method: str, tracking_number: str = "") -> CitywideTransfer:
    """The intake window hands the materials over: by post (tracking number required) or electronically."""
    if method not in HandoverMethod.values:
        raise DomainError("请选择材料流转方式：邮寄材料或电子流转。", code="invalid_transfer")
    if method == HandoverMethod.POST and not TRACKING_NUMBER.match(tracking_number.strip()):
        raise DomainError("邮寄材料须填写邮件单号（6 到 40 位字母、数字或短横线）。", code="invalid_transfer")
    case = _locked(case, actor=actor, expected_version=None, allowed=[CaseStatus.SUBMITTED], roles=_INTAKE)
    transfer = CitywideTransfer.objects.select_for_update().filter(case=case).first()
    if transfer is None:
        raise Conflict("该办件不是全市通办件。", code="not_citywide")
    if transfer.handed_over_at is not None:
        raise Conflict("材料已移交，无需重复操作。", code="already_handed_over")
    transfer.handover_method = method
    transfer.tracking_number = tracking_number.strip()[:40]
    transfer.handed_over_at = timezone.now()
    transfer.save()
    _event(
        case, action="handed_over", from_status=case.status, actor=actor, note=transfer.get_handover_method_display()
    )
    return transfer


@transaction.atomic
def record_home_acceptance(*, case: Case, actor: User, accepted_at: datetime) -> Case:
    """An outgoing case: the home-area body confirmed acceptance at ``accepted_at`` (aware, not in the
    future, not before the hand-over); the clock starts then."""
    case = _locked(case, actor=actor, expected_version=None, allowed=[CaseStatus.SUBMITTED], roles=_INTAKE)
    transfer = CitywideTransfer.objects.filter(case=case, direction=TransferDirection.OUTGOING).first()
    if transfer is None or transfer.handed_over_at is None:
        raise Conflict("须先移交材料，才能登记办理地受理。", code="not_handed_over")
    if accepted_at > timezone.now() or accepted_at < transfer.handed_over_at:
        raise DomainError("办理地受理时间应在材料移交之后、且不晚于现在。", code="invalid_transfer")
    transfer.home_accepted_at = accepted_at
    transfer.save(update_fields=["home_accepted_at"])
    content = case.guide_version.content
    case.accepted_at = accepted_at
    case.statutory_limit_days = statutory_limit_days(case)
    case.promised_limit_days = _working_day_limit(content.get("promised_limit"))
    _move(
        case,
        to=CaseStatus.ACCEPTED,
        actor=actor,
        action="accepted",
        note=f"{transfer.other_body}受理",
        fields=["accepted_at", "statutory_limit_days", "promised_limit_days"],
    )
    refresh_deadlines(case)
    return case
