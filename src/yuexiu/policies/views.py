"""Pages of 政策兑现: the public policy library and 公示 lists, the enterprise's "我的政策", and the
officers' workbench (matching runs with progress, review with explanations, publicity, payment,
rule files, the registry)."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from yuexiu.core.errors import DomainError, NotFound
from yuexiu.core.models import Role
from yuexiu.core.services import has_role
from yuexiu.core.uploads import UploadTooLarge, read_upload
from yuexiu.core.views import staff_required
from yuexiu.policies import selectors, services
from yuexiu.policies.engine.rules import RuleFileError
from yuexiu.policies.models import (
    BenefitItem,
    Candidate,
    CandidateStatus,
    Enterprise,
    MatchRun,
    Mode,
    PolicyDocument,
    Publicity,
    RuleFile,
    RunStatus,
)

# ------------------------------------------------------------------------------------- public


def library(request: HttpRequest) -> HttpResponse:
    """The library: items that apply to Yuexiu's enterprises, and apart from them other districts'
    items as reference (其他区政策参考). Research notes and confidence marks only for staff."""
    items = BenefitItem.objects.select_related("policy", "fund_pool").order_by("policy__code", "position")
    mode = request.GET.get("mode", "")
    if mode in Mode.values:
        items = items.filter(mode=mode)
    query = request.GET.get("q", "").strip()[:50]
    if query:
        items = items.filter(
            Q(name__icontains=query)
            | Q(policy__title__icontains=query)
            | Q(policy__number__icontains=query)
            | Q(department_name__icontains=query)
        )
    publicities = Publicity.objects.select_related("item").order_by("-starts_at")[:20]
    return render(
        request,
        "policies/library.html",
        {
            "items": items.filter(policy__other_district=""),
            "reference_items": items.exclude(policy__other_district="").order_by(
                "policy__other_district", "policy__code", "position"
            ),
            "mode": mode,
            "query": query,
            "modes": Mode.choices,
            "figures": services.figures(),
            "publicities": publicities,
            "research": selectors.sees_research(request.user),  # type: ignore[arg-type]
            "illustration_notice": services.ILLUSTRATION_NOTICE,
        },
    )


def item_detail(request: HttpRequest, code: str) -> HttpResponse:
    item = get_object_or_404(BenefitItem.objects.select_related("policy"), code=code)
    rule_file, rules_item = services.rules_of(item)
    today = timezone.localdate()
    version = rules_item.version_on(today) or (rules_item.versions[-1] if rules_item.versions else None)
    enterprise = selectors.enterprise_of(request.user)
    if item.policy.other_district:
        enterprise = None  # reference material: no pre-check, nothing to apply for here
    check = services.precheck(enterprise, item, on=today) if enterprise is not None else None
    rules = services.parse_rule_text(rule_file.text)
    return render(
        request,
        "policies/item.html",
        {
            "research": selectors.sees_research(request.user),  # type: ignore[arg-type]
            "item": item,
            "rules_item": rules_item,
            "version": version,
            "in_force": rules_item.version_on(today) is not None,
            "validity_recorded": rules.validity_recorded,
            "validity_text": rules.validity_text,
            "validity_source": rules.validity_source,
            "can_record_validity": not rules.validity_recorded
            and not item.policy.other_district
            and services.can_handle(request.user, item),  # type: ignore[arg-type]
            "illustration_notice": services.ILLUSTRATION_NOTICE,
            "rule_file": rule_file,
            "enterprise": enterprise,
            "check": check,
            "closed": services.open_for_application(item) if item.mode == Mode.APPLICATION else "",
        },
    )


@login_required
@require_POST
def apply(request: HttpRequest, code: str) -> HttpResponse:
    item = get_object_or_404(BenefitItem, code=code)
    try:
        candidate = services.apply(item_id=item.pk, user=request.user, declarations=request.POST.getlist("declaration"))  # type: ignore[arg-type]
    except DomainError as error:
        services.audit_refusal(request.user, "policies.apply_refused", item, error)  # type: ignore[arg-type]
        messages.error(request, error.message)
        return redirect("policies:item", code=code)
    messages.success(request, "申报已提交，等待主管部门审核。")
    return redirect("policies:mine_detail", pk=candidate.pk)


def publicity(request: HttpRequest, pk: int) -> HttpResponse:
    publicity = get_object_or_404(Publicity.objects.select_related("item", "item__policy"), pk=pk)
    listed = publicity.candidates.select_related("enterprise").order_by("enterprise__name")
    rows = listed.exclude(status=CandidateStatus.REJECTED)  # an upheld objection takes the name off
    withdrawn = listed.filter(status=CandidateStatus.REJECTED).count()
    return render(request, "policies/publicity.html", {"publicity": publicity, "rows": rows, "withdrawn": withdrawn})


# --------------------------------------------------------------------------------- enterprise


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    enterprise = selectors.enterprise_of(request.user)
    if enterprise is None:
        if request.user.account_type != "enterprise":  # type: ignore[union-attr]
            raise PermissionDenied("“我的政策”仅供企业用户使用。")
        return render(request, "policies/mine.html", {"enterprise": None})
    candidates = list(
        Candidate.objects.filter(enterprise=enterprise)
        .select_related("item", "publicity", "rule_file")
        .order_by("-created_at")
    )
    for candidate in candidates:
        candidate.ceiling = services.amount_kind(candidate) == "maximum"  # type: ignore[attr-defined]
    taken = {c.item_id for c in candidates}
    today = timezone.localdate()
    checks, demonstration = [], []
    items = list(
        BenefitItem.objects.exclude(pk__in=taken)
        .filter(policy__other_district="")  # other districts' items are never offered as applicable
        .select_related("policy", "fund_pool")
        .order_by("policy__code", "position")
    )
    explanations = services.precheck_all(enterprise, items, on=today)
    for item in items:
        explanation = explanations[item.pk]
        if explanation.version is None:
            continue
        if item.illustration:  # a demonstration of matching, never something to get money from
            demonstration.append((item, explanation.decision))
            continue
        closed = services.open_for_application(item) if item.mode == Mode.APPLICATION else ""
        checks.append((item, explanation.decision, closed))
    return render(
        request,
        "policies/mine.html",
        {
            "enterprise": enterprise,
            "candidates": candidates,
            "eligible": [row for row in checks if row[1].eligible],
            "leads": [row for row in checks if row[1].lead],
            "not_eligible": [row for row in checks if not row[1].passes_data],
            "demonstration": demonstration,
            "illustration_notice": services.ILLUSTRATION_NOTICE,
        },
    )


@login_required
def mine_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        candidate = selectors.access_own_candidate(request.user, pk)  # type: ignore[arg-type]  # login_required
    except NotFound as error:
        raise Http404(error.message) from None
    if request.method == "POST":
        try:
            services.confirm_account(
                candidate_id=candidate.pk,
                user=request.user,
                bank_name=request.POST.get("bank_name", ""),
                account_holder=request.POST.get("account_holder", ""),
                bank_account=request.POST.get("bank_account", ""),
            )  # type: ignore[arg-type]
        except DomainError as error:
            services.audit_refusal(request.user, "policies.confirm_refused", candidate, error)  # type: ignore[arg-type]
            messages.error(request, error.message)
        else:
            messages.success(request, "已确认收款账户。公示期满无异议后将下达拨付。")
            return redirect("policies:mine_detail", pk=pk)
    return render(
        request,
        "policies/mine_detail.html",
        {
            "candidate": candidate,
            "explanation": services.explain(candidate),
            "masked_account": services.mask_account(candidate.bank_account) if candidate.bank_account else "",
            "illustration_notice": services.ILLUSTRATION_NOTICE,
        },
    )


# ------------------------------------------------------------------------------------- staff


def _officer(request: HttpRequest) -> None:
    if not has_role(request.user, Role.POLICY_OFFICER):  # type: ignore[arg-type]
        raise PermissionDenied("该页面仅限政策兑现专员使用。")


@staff_required
def workbench(request: HttpRequest) -> HttpResponse:
    _officer(request)
    if request.method == "POST":
        try:
            period = int(request.POST.get("period", "0")) if request.POST.get("period", "").isdecimal() else 0
            as_of = date.fromisoformat(request.POST.get("as_of", ""))
        except ValueError:
            messages.error(request, "请填写正确的所属年度和匹配基准日（如 2026-11-30）。")
            return redirect("policies:workbench")
        try:
            run = services.start_run(user=request.user, period=period, as_of=as_of)  # type: ignore[arg-type]
        except DomainError as error:
            services.audit_refusal(request.user, "policies.run_refused", None, error)  # type: ignore[arg-type]
            messages.error(request, error.message)
            return redirect("policies:workbench")
        return redirect("policies:run", pk=run.pk)
    today = timezone.localdate()
    return render(
        request,
        "policies/workbench.html",
        {
            "items": selectors.handled_items(request.user),
            "runs": MatchRun.objects.all()[:10],
            "figures": services.figures(),
            "today": today,
            "period": today.year,
            "validity_pending": services.list_validity_pending(request.user),
        },  # type: ignore[arg-type]
    )


@staff_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _officer(request)
    run = get_object_or_404(MatchRun, pk=pk)
    names = dict(BenefitItem.objects.values_list("code", "name"))
    handled = set(selectors.handled_items(request.user).values_list("code", flat=True))  # type: ignore[arg-type]
    results = sorted(
        ((code, names.get(code, code), row) for code, row in run.by_item.items()),
        key=lambda r: (-r[2]["pairs"], -r[2].get("leads", 0)),
    )
    demonstration = [row for row in results if row[2].get("illustration")]
    context = {
        "run": run,
        "results": [row for row in results if not row[2].get("illustration")],
        "demonstration": demonstration,
        "demonstration_pairs": sum(row[2]["pairs"] for row in demonstration),
        "illustration_notice": services.ILLUSTRATION_NOTICE,
        "handled": handled,
        "finished": run.status in (RunStatus.DONE, RunStatus.FAILED),
    }
    if request.headers.get("HX-Request"):
        return render(request, "policies/_run_progress.html", context)
    return render(request, "policies/run.html", context)


@staff_required
def item_candidates(request: HttpRequest, code: str) -> HttpResponse:
    _officer(request)
    item = get_object_or_404(BenefitItem.objects.select_related("policy"), code=code)
    if not services.can_handle(request.user, item):  # type: ignore[arg-type]
        raise PermissionDenied(f"“{item.name}”由{item.department_name or '外区或上级部门'}办理，您无权查看其名单。")
    status = request.GET.get("status", "")
    if status not in CandidateStatus.values:
        status = CandidateStatus.PENDING_REVIEW
    candidates = item.candidates.select_related("enterprise").filter(status=status)
    page = Paginator(candidates.order_by("-engine_amount_fen", "id"), 50).get_page(request.GET.get("page"))
    pool = getattr(item, "fund_pool", None)
    _, rules_item = services.rules_of(item)
    version = rules_item.version_on(timezone.localdate()) or (rules_item.versions[-1] if rules_item.versions else None)
    ceiling = version is not None and version.amount is not None and version.amount.kind == "maximum"
    return render(
        request,
        "policies/item_candidates.html",
        {
            "item": item,
            "page": page,
            "status": status,
            "query": urlencode({"status": status}),
            "statuses": CandidateStatus.choices,
            "pool": pool,
            "can_handle": services.can_handle(request.user, item),
            "ceiling": ceiling,
            "illustration_notice": services.ILLUSTRATION_NOTICE,
            "publicities": item.publicities.all()[:10],
        },  # type: ignore[arg-type]
    )


@staff_required
def candidate_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _officer(request)
    candidate = get_object_or_404(
        Candidate.objects.select_related("item", "item__policy", "enterprise", "publicity", "rule_file", "reviewed_by"),
        pk=pk,
    )
    if not services.can_handle(request.user, candidate.item):  # type: ignore[arg-type]
        raise PermissionDenied("该事项不由您所在单位办理。")
    return render(
        request,
        "policies/candidate.html",
        {
            "illustration_notice": services.ILLUSTRATION_NOTICE,
            "candidate": candidate,
            "explanation": services.explain(candidate),
            "amount_kind": services.amount_kind(candidate),
            "live": services.precheck(candidate.enterprise, candidate.item, on=candidate.as_of)
            if candidate.status == CandidateStatus.PENDING_REVIEW
            else None,
            "objections": candidate.objections.all(),
            "pool": getattr(candidate.item, "fund_pool", None),
            "masked_account": services.mask_account(candidate.bank_account) if candidate.bank_account else "",
            "publicity_over": candidate.publicity is not None and timezone.now() >= candidate.publicity.ends_at,
            "research": selectors.sees_research(request.user),  # type: ignore[arg-type]  # the rules' sources
        },
    )


@staff_required
@require_POST
def candidate_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    _officer(request)
    candidate = get_object_or_404(Candidate, pk=pk)
    version = int(request.POST["version"]) if request.POST.get("version", "").isdecimal() else None
    user = request.user
    post = request.POST
    try:
        if action in ("approve", "reject"):
            services.review(
                candidate_id=pk,
                user=user,
                approve=action == "approve",
                note=post.get("note", ""),
                amount_text=post.get("amount", ""),
                version=version,
                confirm_stale=post.get("confirm_stale") == "1",
            )  # type: ignore[arg-type]
            messages.success(request, "已审核通过，金额已在资金池中核定。" if action == "approve" else "已不予兑现。")
        elif action == "refresh":
            refreshed = services.refresh(candidate_id=pk, user=user, version=version)  # type: ignore[arg-type]
            messages.success(
                request,
                "已按当前数据重新判断。"
                if refreshed.status == CandidateStatus.PENDING_REVIEW
                else refreshed.review_note,
            )
        elif action == "objection":
            services.record_objection(
                candidate_id=pk,
                user=user,
                name=post.get("name", ""),
                phone=post.get("phone", ""),
                reason=post.get("reason", ""),
            )  # type: ignore[arg-type]
            messages.success(request, "已登记公示异议。")
        elif action == "decide_objection":
            objection_id = int(post.get("objection", "0")) if post.get("objection", "").isdecimal() else 0
            services.decide_objection(
                objection_id=objection_id, user=user, upheld=post.get("upheld") == "1", note=post.get("note", "")
            )  # type: ignore[arg-type]
            messages.success(request, "已处理异议。")
        elif action == "close_publicity":
            if candidate.publicity_id is None:
                raise DomainError("该候选不在公示中。")
            services.close_publicity(publicity_id=candidate.publicity_id, user=user)  # type: ignore[arg-type]
            messages.success(request, "公示已结束，名单内无异议的企业进入拨付环节。")
        elif action == "order":
            services.order_disbursement(candidate_id=pk, user=user, version=version)  # type: ignore[arg-type]
            messages.success(request, "已下达拨付单。")
        elif action == "pay":
            services.record_payment(
                candidate_id=pk,
                user=user,
                reference_no=post.get("reference", ""),
                amount_text=post.get("amount", ""),
                version=version,
            )  # type: ignore[arg-type]
            messages.success(request, "已登记拨付，资金池已扣减。")
        else:
            raise Http404
    except DomainError as error:
        services.audit_refusal(user, f"policies.{action}_refused", candidate, error)  # type: ignore[arg-type]
        messages.error(request, error.message)
    return redirect("policies:candidate", pk=pk)


@staff_required
@require_POST
def publish(request: HttpRequest, code: str) -> HttpResponse:
    _officer(request)
    item = get_object_or_404(BenefitItem, code=code)
    try:
        publicity = services.publish(item_id=item.pk, user=request.user)  # type: ignore[arg-type]
    except DomainError as error:
        services.audit_refusal(request.user, "policies.publish_refused", item, error)  # type: ignore[arg-type]
        messages.error(request, error.message)
        return redirect("policies:item_candidates", code=code)
    messages.success(request, f"已发布公示，公示期至 {timezone.localtime(publicity.ends_at):%Y-%m-%d}。")
    return redirect("policies:publicity", pk=publicity.pk)


@staff_required
def rules_edit(request: HttpRequest, code: str) -> HttpResponse:
    _officer(request)
    policy = get_object_or_404(PolicyDocument, code=code)
    current = RuleFile.objects.filter(policy=policy).order_by("-revision").first()
    text = current.text if current else ""
    problems: list[str] = []
    if request.method == "POST":
        text = request.POST.get("text", "")
        try:
            saved = services.save_rule_file(text=text, user=request.user, policy_code=policy.code)  # type: ignore[arg-type]
        except RuleFileError as error:
            problems = list(services.iter_rule_problems(error))
        except DomainError as error:
            services.audit_refusal(request.user, "policies.rules_refused", policy, error)  # type: ignore[arg-type]
            problems = [error.message]
        else:
            messages.success(request, f"规则已保存为第 {saved.revision} 版。")
            return redirect("policies:rules", code=code)
    revisions = RuleFile.objects.filter(policy=policy).select_related("created_by")[:20]
    return render(
        request,
        "policies/rules.html",
        {"policy": policy, "text": text, "problems": problems, "revisions": revisions},
        status=400 if problems else 200,
    )


@staff_required
def validity(request: HttpRequest, code: str) -> HttpResponse:
    """Record a policy document's validity as read in the document (its source did not print it)."""
    _officer(request)
    policy = get_object_or_404(PolicyDocument, code=code)
    values = {
        "effective": request.POST.get("effective", "").strip(),
        "expires": request.POST.get("expires", "").strip(),
        "open_ended": request.POST.get("open_ended") == "1",
        "source": request.POST.get("source", "") or policy.validity_source,
    }
    if request.method == "POST":
        try:
            try:
                effective = date.fromisoformat(values["effective"]) if values["effective"] else None
                expires = date.fromisoformat(values["expires"]) if values["expires"] else None
            except ValueError:
                raise DomainError("请按 2025-08-23 的格式填写日期。") from None
            saved = services.record_validity(
                policy_code=policy.code,
                user=request.user,  # type: ignore[arg-type]
                effective=effective,
                expires=expires,
                open_ended=bool(values["open_ended"]),
                source=str(values["source"]),
            )
        except DomainError as error:
            services.audit_refusal(request.user, "policies.validity_refused", policy, error)  # type: ignore[arg-type]
            messages.error(request, error.message)
        else:
            recorded = services.parse_rule_text(saved.text).validity_text
            messages.success(request, f"已记录“{policy.title}”的有效期：{recorded}（规则第 {saved.revision} 版）。")
            return redirect("policies:workbench")
    return render(
        request,
        "policies/validity.html",
        {"policy": policy, "values": values, "items": policy.items.order_by("position")},
        status=400 if request.method == "POST" else 200,
    )


@staff_required
def registry_page(request: HttpRequest) -> HttpResponse:
    if not has_role(request.user, Role.POLICY_OFFICER, Role.DATA_OFFICER):  # type: ignore[arg-type]
        raise PermissionDenied("该页面仅限数据专员和政策兑现专员使用。")
    report = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, "请选择要导入的 Excel 或 CSV 文件。")
        else:
            try:
                data = read_upload(upload, limit=settings.REGISTRY_IMPORT_MAX_BYTES)
                report = services.import_registry(data=data, filename=upload.name, user=request.user)  # type: ignore[arg-type]
            except UploadTooLarge as error:
                messages.error(request, error.message)
            except DomainError as error:
                services.audit_refusal(request.user, "policies.registry_import_refused", None, error)  # type: ignore[arg-type]
                messages.error(request, error.message)
    query = request.GET.get("q", "").strip()[:50]
    enterprises = Enterprise.objects.all()
    if query:
        enterprises = enterprises.filter(Q(uscc__startswith=query.upper()) | Q(name__icontains=query))
    page = Paginator(enterprises.order_by("uscc"), 30).get_page(request.GET.get("page"))
    return render(
        request,
        "policies/registry.html",
        {
            "page": page,
            "search": query,
            "query": urlencode({"q": query}) if query else "",
            "report": report,
            "total": Enterprise.objects.count(),
            "synthetic": Enterprise.objects.filter(is_synthetic=True).count(),
        },
    )
