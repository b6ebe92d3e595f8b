"""JSON API of 政策兑现: the public library and figures, an enterprise's own pre-checks and
candidates, and an officer's matching runs (started, and their progress)."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.security import django_auth

from yuexiu.core.api import AUTH_ERRORS, ERRORS, ErrorOut, PageIn
from yuexiu.core.errors import NotFound, PermissionDeniedError
from yuexiu.core.models import User
from yuexiu.core.pagination import paginate
from yuexiu.policies import selectors, services
from yuexiu.policies.engine import describe
from yuexiu.policies.models import BenefitItem, Candidate, MatchRun, Mode

router = Router(tags=["政策兑现"])


class ItemOut(Schema):
    code: str
    name: str
    policy_number: str
    policy_title: str
    mode: str
    department: str
    illustration: bool
    incomplete: str
    confidence: str
    in_force: bool
    conditions: list[str]
    amount_rule: str


def _item_out(item: BenefitItem) -> dict[str, object]:
    _, rules_item = services.rules_of(item)
    today = timezone.localdate()
    version = rules_item.version_on(today) or (rules_item.versions[-1] if rules_item.versions else None)
    return {
        "code": item.code,
        "name": item.name,
        "policy_number": item.policy.number,
        "policy_title": item.policy.title,
        "mode": item.mode,
        "department": item.department_name,
        "illustration": item.illustration,
        "incomplete": item.incomplete,
        "confidence": item.confidence,
        "in_force": rules_item.version_on(today) is not None,
        "conditions": ["　" * depth + text for depth, text in describe.condition_lines(version.eligibility)]
        if version
        else [],
        "amount_rule": describe.amount_text(version.amount) if version else "",
    }


class ItemPage(Schema):
    count: int
    items: list[ItemOut]


class ItemFilter(PageIn):
    mode: str | None = Field(None, max_length=8, description="免申即享 或 申报")


@router.get("/policies/items", response={200: ItemPage, 422: ErrorOut}, summary="兑现事项列表")
def list_items(request: HttpRequest, filters: Query[ItemFilter]) -> dict[str, object]:
    items = BenefitItem.objects.select_related("policy").order_by("policy__code", "position")
    if filters.mode in Mode.values:
        items = items.filter(mode=filters.mode)
    page = paginate(items, filters)
    return {**page, "items": [_item_out(item) for item in page["items"]]}


@router.get("/policies/items/{code}", response={200: ItemOut, **ERRORS}, summary="兑现事项详情（条件和金额规则）")
def get_item(request: HttpRequest, code: str) -> dict[str, object]:
    item = BenefitItem.objects.select_related("policy").filter(code=code[:64]).first()
    if item is None:
        raise NotFound("兑现事项不存在。")
    return _item_out(item)


class FiguresOut(Schema):
    items: int
    no_application_items: int
    illustration_items: int
    incomplete_items: int
    enterprises_served: int
    enterprises_served_no_application: int
    paid_fen: int
    by_status: dict[str, int]
    registry: int


@router.get(
    "/policies/figures",
    response={200: FiguresOut, 422: ErrorOut},
    summary="政策兑现统计（事项数、服务企业数、拨付金额，单位分）",
)
def get_figures(
    request: HttpRequest, year: int | None = Query(None, ge=2000, le=2100, description="所属年度")
) -> dict[str, object]:  # noqa: B008
    return services.figures(year)


class ConditionOut(Schema):
    label: str
    expected: str
    seen: str
    passed: bool | None


class PrecheckOut(Schema):
    item_code: str
    in_force: bool
    eligible: bool
    amount_fen: int | None
    ceiling: bool = Field(False, description="amount_fen 是“最高/不超过”的上限，具体金额由审核核定")
    conditions: list[ConditionOut]


@router.get(
    "/policies/items/{code}/precheck",
    response={200: PrecheckOut, **ERRORS, **AUTH_ERRORS},
    auth=django_auth,
    summary="本企业预检（逐条条件和所用数据）",
)
def precheck(request: HttpRequest, code: str) -> dict[str, object]:
    user: User = request.user  # type: ignore[assignment]  # django_auth
    enterprise = selectors.enterprise_of(user)
    if enterprise is None:
        raise PermissionDeniedError("预检仅供企业库中已有数据的企业用户使用。")
    item = BenefitItem.objects.filter(code=code[:64]).first()
    if item is None:
        raise NotFound("兑现事项不存在。")
    explanation = services.precheck(enterprise, item)
    decision = explanation.decision
    return {
        "item_code": item.code,
        "in_force": explanation.version is not None,
        "eligible": decision.eligible,
        "amount_fen": decision.amount_fen,
        "ceiling": decision.ceiling,
        "conditions": [
            {"label": c.label, "expected": c.expected, "seen": c.seen, "passed": c.passed} for c in decision.conditions
        ],
    }


class CandidateOut(Schema):
    id: int
    item_code: str
    item_name: str
    period: int
    source: str
    status: str
    status_label: str
    engine_amount_fen: int | None
    ceiling: bool = Field(False, description="engine_amount_fen 是上限，核定金额见 approved_fen")
    approved_fen: int | None
    confirmed: bool


@router.get(
    "/policies/mine", response={200: list[CandidateOut], **AUTH_ERRORS}, auth=django_auth, summary="本企业的兑现记录"
)
def my_candidates(request: HttpRequest) -> list[dict[str, object]]:
    enterprise = selectors.enterprise_of(request.user)  # type: ignore[arg-type]
    if enterprise is None:
        return []
    rows = Candidate.objects.filter(enterprise=enterprise).select_related("item", "rule_file").order_by("-created_at")
    return [
        {
            "id": c.pk,
            "item_code": c.item.code,
            "item_name": c.item.name,
            "period": c.period,
            "source": c.source,
            "status": c.status,
            "status_label": c.get_status_display(),
            "engine_amount_fen": c.engine_amount_fen,
            "ceiling": services.amount_kind(c) == "maximum",
            "approved_fen": c.approved_fen,
            "confirmed": c.confirmed_at is not None,
        }
        for c in rows
    ]


class RunIn(Schema):
    period: int = Field(..., ge=2000, le=2100, description="所属年度")
    as_of: date = Field(..., description="匹配基准日")


class RunOut(Schema):
    id: int
    period: int
    as_of: date
    status: str
    stage: str
    progress: int
    enterprises: int
    items: int
    pairs: int
    candidates: int
    engine_seconds: float | None
    snapshot_sha256: str
    error: str


@router.post(
    "/policies/runs", response={202: RunOut, **ERRORS, **AUTH_ERRORS}, auth=django_auth, summary="发起匹配（后台执行）"
)
def start_run(request: HttpRequest, payload: RunIn) -> Status:
    return Status(202, services.start_run(user=request.user, period=payload.period, as_of=payload.as_of))  # type: ignore[arg-type]


@router.get(
    "/policies/runs/{run_id}",
    response={200: RunOut, **ERRORS, **AUTH_ERRORS},
    auth=django_auth,
    summary="匹配批次进度和结果",
)
def get_run(request: HttpRequest, run_id: int) -> MatchRun:
    from yuexiu.core.models import Role
    from yuexiu.core.services import has_role

    if not has_role(request.user, Role.POLICY_OFFICER):  # type: ignore[arg-type]
        raise PermissionDeniedError("只有政策兑现专员可以查看匹配批次。")
    run = MatchRun.objects.filter(pk=run_id).first()
    if run is None:
        raise NotFound("匹配批次不存在。")
    return run
