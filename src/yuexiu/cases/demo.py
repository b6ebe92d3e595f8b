"""Cases in every state for the demo (``yuexiu setup --demo``), so each window, approver, the citizen
and the enterprise find work on their pages whatever today's date is.

Each scenario is a case's history told in working days before today (``core.demo.Story``) and replayed
through the case services: submitted online or registered at a window, accepted, a 补正 or a 特殊环节,
decided, delivered. Two cases run past their limit and one nears it, so the supervision sweep (run by
``supervision.demo`` as the worker would have run it) fires its alerts and 督办 orders on real deadlines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from yuexiu.cases import services
from yuexiu.cases.models import Case
from yuexiu.cases.services import Upload
from yuexiu.catalog.models import ServiceItem
from yuexiu.core.demo import Story, at
from yuexiu.core.models import User

PREFIX = "demo-work-"  # idempotency keys of these cases
PDF = b"%PDF-1.7\n% demo material\n"
# Materials the guides list, named as the guides name them (a 补正 may only ask for what the guide asks).
FOOD_RULES = "食品安全自查、从业人员健康管理、进货查验记录、食品安全事故处置等保证食品安全的规章制度"
RESIDENCE_PROOF = "居住地址证明（租赁合同、产权证、购房合同或住宿证明）"
SPECIAL_PROCEDURE_BASIS = "《中华人民共和国行政许可法》第四十五条（检验、检测所需时间不计算在许可期限内）"
EXTENSION_REASON = "经营场所与设备布局须现场核查，法定期限内不能作出决定。"


@dataclass(frozen=True)
class WalkIn:
    """An applicant registered at a window (no account): name, 身份证号, phone."""

    name: str
    id_number: str
    phone: str


@dataclass(frozen=True)
class Scenario:
    """One demo case: ``steps`` are (working days before today, "HH:MM", action, actor username,
    details), replayed in order; ``applicant`` applies online, or ``window`` registers ``walk_in``."""

    key: str
    item: str
    steps: list[tuple[int, str, str, str, dict[str, Any]]]
    applicant: str = ""
    window: str = ""
    walk_in: WalkIn | None = None
    purpose: str = ""


SCENARIOS = [
    Scenario(
        key=PREFIX + "overdue-decision",
        item="individual-business-registration",  # 3 working days from acceptance
        applicant="citizen_demo",
        purpose="超期未决定：区市场监管局待决定；红牌督办单已回复，待监督人员核实",
        steps=[(7, "09:20", "submit", "", {}), (6, "10:00", "accept", "window_centre", {})],
    ),
    Scenario(
        key=PREFIX + "overdue-on-the-spot",
        item="public-place-hygiene-licence",  # 告知承诺: decided on the day of acceptance (0 working days)
        applicant="enterprise_demo",
        purpose="当场办结件超期：区卫生健康局待决定，并待回复红牌督办单",
        steps=[(3, "09:00", "submit", "", {}), (3, "09:30", "accept", "window_centre", {})],
    ),
    Scenario(
        key=PREFIX + "nearing-limit",
        item="hr-service-licence",  # 20 working days; the warning fires when 80% are used
        applicant="enterprise_demo",
        purpose="承诺时限即将用完（黄牌）：区人社局待决定",
        steps=[(18, "14:00", "submit", "", {}), (17, "10:00", "accept", "window_centre", {})],
    ),
    Scenario(
        key=PREFIX + "special-procedure",
        item="public-place-hygiene-licence",
        applicant="enterprise_demo",
        purpose="特殊环节（检测）暂停计时：区卫生健康局待结束特殊环节",
        steps=[
            (5, "09:10", "submit", "", {}),
            (5, "10:00", "accept", "window_centre", {}),
            (5, "15:00", "special", "approver_wjj", {"name": "卫生检测", "legal_basis": SPECIAL_PROCEDURE_BASIS}),
        ],
    ),
    Scenario(
        key=PREFIX + "long-correction",
        item="food-business-licence-new",
        applicant="enterprise_demo",
        purpose="补正已超过 10 个工作日（暂停计时过久预警）：企业待补正",
        steps=[
            (14, "10:00", "submit", "", {}),
            (13, "11:00", "accept", "window_centre", {}),
            (12, "16:00", "correct", "window_centre", {"missing": [FOOD_RULES + "（缺进货查验记录制度）"]}),
        ],
    ),
    Scenario(
        key=PREFIX + "extension-to-approve",
        item="food-business-licence-new",  # 20 working days (行政许可法 第四十二条), 5 left
        applicant="enterprise_demo",
        purpose="延长审批期限（行政许可法第四十二条）：窗口已申请延长 10 个工作日，区市场监管局审批人员待批准",
        steps=[
            (16, "09:30", "submit", "", {}),
            (15, "10:00", "accept", "window_centre", {}),
            (1, "16:00", "request_extension", "window_centre", {"reason": EXTENSION_REASON}),
        ],
    ),
    Scenario(
        key=PREFIX + "citizen-correction",
        item="residence-permit",
        applicant="citizen_demo",
        purpose="补正：市民待补正居住地址证明",
        steps=[
            (4, "09:40", "submit", "", {}),
            (4, "10:10", "accept", "window_centre", {}),
            (3, "15:00", "correct", "window_centre", {"missing": [RESIDENCE_PROOF + "：租赁合同缺出租人签字页"]}),
        ],
    ),
    Scenario(
        key=PREFIX + "to-accept-online",
        item="social-security-card-application",
        applicant="citizen_demo",
        purpose="网上申请：区政务服务中心窗口待受理",
        steps=[(1, "15:20", "submit", "", {})],
    ),
    Scenario(
        key=PREFIX + "to-accept-hongqiao",
        item="resident-medical-insurance-enrolment",
        window="window_hongqiao",
        walk_in=WalkIn("陈越华", "440104198503150027", "13800138001"),
        purpose="窗口登记：洪桥街道窗口待受理",
        steps=[(1, "10:30", "register", "", {})],
    ),
    Scenario(
        key=PREFIX + "to-accept-beijing",
        item="disability-certificate-new",
        window="window_beijing",
        walk_in=WalkIn("黄秀英", "440104198805060027", "13800138002"),
        purpose="窗口登记：北京街道窗口待受理",
        steps=[(1, "14:10", "register", "", {})],
    ),
    Scenario(
        key=PREFIX + "gaj-to-decide",
        item="residence-permit",  # 15 natural days
        applicant="citizen_demo",
        purpose="公安越秀区分局待决定",
        steps=[(3, "11:00", "submit", "", {}), (2, "09:30", "accept", "window_centre", {})],
    ),
    Scenario(
        key=PREFIX + "ybj-to-decide",
        item="resident-medical-insurance-enrolment",
        applicant="citizen_demo",
        purpose="区医疗保障局待决定",
        steps=[(2, "16:00", "submit", "", {}), (1, "09:20", "accept", "window_centre", {})],
    ),
    Scenario(
        key=PREFIX + "swj-to-decide",
        item="resident-medical-insurance-contribution",
        applicant="citizen_demo",
        purpose="区税务局待决定",
        steps=[(2, "10:00", "submit", "", {}), (2, "10:40", "accept", "window_centre", {})],
    ),
    Scenario(
        key=PREFIX + "to-deliver",
        item="hr-service-licence",
        applicant="enterprise_demo",
        purpose="已准予：区政务服务中心窗口待送达",
        steps=[
            (9, "10:00", "submit", "", {}),
            (9, "11:00", "accept", "window_centre", {}),
            (1, "11:00", "approve", "approver_rsj", {"note": "经审查，符合许可条件，准予许可。"}),
        ],
    ),
    Scenario(
        key=PREFIX + "to-close",
        item="individual-business-registration",
        applicant="citizen_demo",
        purpose="已邮寄送达：区政务服务中心窗口待办结",
        steps=[
            (4, "09:30", "submit", "", {}),
            (4, "10:00", "accept", "window_centre", {}),
            (2, "15:00", "approve", "approver_scj", {"note": "准予登记。"}),
            (1, "15:00", "deliver", "window_centre", {"method": "post", "tracking_number": "SF1402281975"}),
        ],
    ),
]
EARLIEST = max(step[0] for scenario in SCENARIOS for step in scenario.steps)  # working days before today


def _uploads(item: ServiceItem) -> list[Upload]:
    return [Upload(name, "材料.pdf", PDF) for name in services.required_uploads(item)]


def _action(scenario: Scenario, action: str, actor: User, details: dict[str, Any], cases: dict[str, Case]) -> Any:
    """The service call of one step; ``cases`` holds each scenario's case once submitted."""
    item = ServiceItem.objects.get(seed_key=scenario.item)
    if action == "submit":
        return services.submit_application(
            item=item,
            applicant=actor,
            idempotency_key=scenario.key,
            form_data={},
            uploads=_uploads(item),
            confirm_repeat=True,  # the demo applicants have other cases of the same item open, and confirm
        )
    if action == "register":
        walk_in = scenario.walk_in
        assert walk_in is not None
        return services.submit_application(
            item=item,
            registered_by=actor,
            idempotency_key=scenario.key,
            form_data={},
            applicant_name=walk_in.name,
            applicant_id_number=walk_in.id_number,
            applicant_phone=walk_in.phone,
            confirm_repeat=True,
        )
    case = cases[scenario.key]
    calls: dict[str, Callable[..., Case]] = {
        "accept": services.accept_case,
        "correct": services.request_correction,
        "special": services.start_special_procedure,
        "approve": services.approve_case,
        "deliver": services.deliver_result,
        "close": services.close_case,
        "request_extension": lambda **arguments: services.request_extension(**arguments).case,
    }
    return calls[action](case=case, actor=actor, **details)


def add_cases_in_progress(story: Story, users: dict[str, User]) -> dict[str, Case]:
    """Add every scenario's steps to ``story``; returns the dict that holds each case (by key) once the
    story has been played."""
    cases: dict[str, Case] = {}
    for scenario in SCENARIOS:
        for days_ago, clock, action, actor_name, details in scenario.steps:
            actor = users[actor_name or scenario.applicant or scenario.window]

            def step(scenario=scenario, action=action, actor=actor, details=details) -> None:
                cases[scenario.key] = _action(scenario, action, actor, details, cases)

            story.add(at(story.day(days_ago), clock), step)
    return cases


def demo_cases_exist() -> bool:
    return Case.objects.filter(idempotency_key__startswith=PREFIX).exists()
