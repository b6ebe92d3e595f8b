"""Guide editing in progress for the demo (``yuexiu setup --demo``): 区卫生健康局's editor has submitted
a change the bureau's reviewer is to review, and 区市场监管局's editor has a change sent back to revise.
Told as a ``core.demo.Story`` relative to today and replayed through the guide services; runs once per
guide (a guide edited since it was seeded is left alone)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from yuexiu.catalog import services
from yuexiu.catalog.models import GuideVersion, ServiceItem
from yuexiu.core.demo import Story, at
from yuexiu.core.models import User

# item seed key -> editor, element changed, new value, change summary, (working days ago, time) of
# drafting and submission, and the reviewer's reason when the change is sent back
EDITS: list[dict[str, Any]] = [
    {
        "item": "vaccination-record",
        "editor": "editor_wjj",
        "element": "hours",
        "value": "全天 24 小时可在粤省事小程序申领",
        "summary": "补充办理时间",
        "drafted": (2, "15:00"),
        "submitted": (1, "10:00"),
    },
    {
        "item": "individual-business-registration",
        "editor": "editor_scj",
        "element": "hours",
        "value": "工作日 9:00—12:00，13:30—17:30（区政务服务中心市场监管窗口）",
        "summary": "补充窗口办理时间",
        "drafted": (4, "14:00"),
        "submitted": (3, "10:00"),
        "returned": (2, "16:00", "请同时补充咨询方式（咨询电话或窗口），再提交审核。"),
    },
]


@transaction.atomic
def load_demo_guides() -> list[str]:
    users = {
        user.username: user for user in User.objects.filter(username__in=["editor_wjj", "editor_scj", "reviewer_zsj"])
    }
    story = Story()
    drafts: dict[str, GuideVersion] = {}
    count = 0
    for edit in EDITS:
        item = ServiceItem.objects.filter(seed_key=edit["item"]).first()
        if item is None or item.current_version is None or item.versions.count() > 1:
            continue
        editor = users[edit["editor"]]

        def draft(edit: dict[str, Any] = edit, item: ServiceItem = item, editor: User = editor) -> None:
            version = services.create_draft(item=item, editor=editor)
            content = {**version.content, edit["element"]: edit["value"]}
            drafts[edit["item"]] = services.save_draft(
                version=version, editor=editor, content=content, change_summary=edit["summary"]
            )

        story.add(at(story.day(edit["drafted"][0]), edit["drafted"][1]), draft)
        story.add(
            at(story.day(edit["submitted"][0]), edit["submitted"][1]),
            lambda edit=edit, editor=editor: services.submit_draft(version=drafts[edit["item"]], editor=editor),
        )
        if "returned" in edit:
            days_ago, clock, reason = edit["returned"]
            story.add(
                at(story.day(days_ago), clock),
                lambda edit=edit, reason=reason: services.return_version(
                    version=drafts[edit["item"]], reviewer=users["reviewer_zsj"], reason=reason
                ),
            )
        count += 1
    story.play()
    return [f"演示指南修改稿：{count} 份（待审核、被退回各一）"] if count else []
