"""JSON API of 政策兑现: the public library and figures, an enterprise's own pre-checks and
candidates, and an officer's matching runs (started, and their progress)."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.security import django_auth

from yuexiu.core.api import AUTH_ERRORS, ERRORS, ErrorOut, PageIn
from yuexiu.core.errors import DomainError, NotFound, PermissionDeniedError
from yuexiu.core.models import User
from yuexiu.core.pagination import paginate
from yuexiu.policies import selectors, services
from yuexiu.policies.engine import describe
from yuexiu.policies.models import BenefitItem, Candidate, MatchRun, Mode

router = Router(tags=["政策兑现"])


class ResearchOut(Schema):
    confidence: str = Field(description="可信度 H/M/L/U（研究标注）")
    notes: str = Field(description="事项研究说明")
    policy_notes: str = Field(description="政策文件研究说明")
    incomplete_reason: str = Field(description="奖励标准未录入的原因")


class ItemOut(Schema):
    code: str
    name: str
    policy_number: str
    policy_title: str
    mode: str
    department: str
    illustration: bool = Field(description="示例条款：只作匹配演示，不是真实政策，不可申报或兑现")
    notice: str = Field(description="给人看的说明：示例条款的性质，或“有效期待核实”（核实前不匹配、不受理）；空：无")
    validity: str = Field(description="有效期，如“2025-01-01 至 2027-12-31”，或“有效期待核实（…未载明）”")
    validity_recorded: bool = Field(description="生效和失效日期均已按文件记录；否则不参与匹配、不受理申报")
    incomplete: str = Field(description="“奖励标准未录入”或空：原因见 research（仅工作人员）")
    other_district: str = Field(description="其他区政策所属区（仅供参考，不适用于越秀区企业）；空：适用于越秀区企业")
    in_force: bool
    conditions: list[str]
    amount_rule: str
    research: ResearchOut | None = Field(None, description="研究说明和可信度：仅工作人员可见，公众和企业为 null")


def _item_out(item: BenefitItem, *, research: bool) -> dict[str, object]:
    rule_file, rules_item = services.rules_of(item)
    rules = services.parse_rule_text(rule_file.text)
    today = timezone.localdate()
    version = rules_item.version_on(today) or (rules_item.versions[-1] if rules_item.versions else None)
    if item.illustration:
        notice = services.ILLUSTRATION_NOTICE
    elif not rules.validity_recorded and not item.policy.other_district:
        notice = f"{services.VALIDITY_PENDING}：来源未载明文件的生效或失效日期，主管部门核实前不参与匹配、不受理申报"
    else:
        notice = ""
    return {
        "code": item.code,
        "name": item.name,
        "policy_number": item.policy.number,
        "policy_title": item.policy.title,
        "mode": item.mode,
        "department": item.department_name,
        "illustration": item.illustration,
        "notice": notice,
        "validity": rules.validity_text,
        "validity_recorded": rules.validity_recorded,
        "incomplete": "奖励标准未录入" if item.incomplete else "",
        "other_district": item.policy.other_district,
        "research": {
            "confidence": item.confidence or item.policy.confidence,
            "notes": item.notes,
            "policy_notes": item.policy.notes,
            "incomplete_reason": item.incomplete,
        }
        if research
        else None,
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
    research = selectors.sees_research(request.user)  # type: ignore[arg-type]
    return {**page, "items": [_item_out(item, research=research) for item in page["items"]]}


@router.get("/policies/items/{code}", response={200: ItemOut, **ERRORS}, summary="兑现事项详情（条件和金额规则）")
def get_item(request: HttpRequest, code: str) -> dict[str, object]:
    item = BenefitItem.objects.select_related("policy").filter(code=code[:64]).first()
    if item is None:
        raise NotFound("兑现事项不存在。")
    return _item_out(item, research=selectors.sees_research(request.user))  # type: ignore[arg-type]


class FiguresOut(Schema):
    items: int = Field(description="适用于越秀区企业的事项")
    no_application_items: int
    illustration_items: int = Field(description="示例事项（只作匹配演示，不可兑现）")
    real_items: int = Field(description="真实政策事项（items 中除示例以外的）")
    real_no_application_items: int = Field(description="真实政策中的免申即享事项")
    validity_pending_items: int = Field(description="有效期待核实、暂不匹配的事项")
    incomplete_items: int
    other_district_items: int = Field(description="其他区政策（仅供参考）")
    eligible_pairs: int = Field(description="最近一次匹配中符合条件的企业-事项对（数据可判断）")
    leads: int = Field(description="最近一次匹配中的申报线索（须主管部门认定；只计数，不计金额）")
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
    seen: str = Field(description="条件读取的值，如“越秀区”")
    used: str = Field(description="所用数据：数据项和值，如“注册地：越秀区”")
    passed: bool | None


class PrecheckOut(Schema):
    item_code: str
    illustration: bool = Field(
        False, description="示例条款：结果只演示比对方式，不是真实政策，不可申报或兑现（amount_fen 为 null）"
    )
    in_force: bool
    eligible: bool = Field(description="数据即可判断符合（须认定的条件不影响结果）")
    lead: bool = Field(
        False, description="线索：是否符合取决于须由主管部门认定的条件；可以申报，但不算符合，金额不计入合计"
    )
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
    item = BenefitItem.objects.select_related("policy").filter(code=code[:64]).first()
    if item is None:
        raise NotFound("兑现事项不存在。")
    if item.policy.other_district:
        raise DomainError(f"该事项是{item.policy.other_district}的政策，仅供参考，不对越秀区企业预检。")
    explanation = services.precheck(enterprise, item)
    decision = explanation.decision
    return {
        "item_code": item.code,
        "illustration": item.illustration,
        "in_force": explanation.version is not None,
        "eligible": decision.eligible,
        "lead": decision.lead,
        "amount_fen": None if item.illustration else decision.amount_fen,  # an example pays nothing
        "ceiling": decision.ceiling,
        "conditions": [
            {"label": c.label, "expected": c.expected, "seen": c.seen, "used": c.used, "passed": c.passed}
            for c in decision.conditions
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
    illustration: bool = Field(False, description="示例条款的记录：不兑现任何金额")
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
            "illustration": c.item.illustration,
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
    pairs: int = Field(description="符合条件的企业-事项对（数据可判断）")
    leads: int = Field(description="申报线索（须主管部门认定；另计，不计金额）")
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
