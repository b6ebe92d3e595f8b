"""Staff editing: 孙编辑 drafts and submits a change to 区市场监管局's guide, 梁审核 publishes or sends it
back; the old version stays readable; the guide checks flag a promised limit above the statutory one."""

from __future__ import annotations

import pytest

from yuexiu.catalog import checks, services
from yuexiu.catalog.models import GuideStatus, GuideVersion, ServiceItem
from yuexiu.core.errors import Conflict, DomainError, PermissionDeniedError
from yuexiu.core.models import AuditEvent

FORM = {
    "service_object": "legal_person",
    "statutory_limit": "20",
    "promised_limit": "25",
    "handling_type": "promised",
    "fee_charged": "false",
    "legal_basis": "中华人民共和国食品安全法 | 第三十五条第一款",
    "materials": "食品经营许可申请书 | 在线填报 | 1 | 必需",
    "change_summary": "调整承诺时限",
}


def test_an_editor_drafts_and_the_check_flags_a_promised_limit_above_the_statutory_one(client, catalogue, food):
    client.force_login(catalogue["editor_scj"])
    response = client.post(f"/workbench/guides/items/{food.slug}/draft/")
    draft = GuideVersion.objects.get(item=food, status=GuideStatus.DRAFT)
    assert response.url == f"/workbench/guides/{draft.pk}/"
    assert draft.number == 2
    response = client.post(f"/workbench/guides/{draft.pk}/", FORM, follow=True)
    html = response.content.decode()
    assert 'data-rule="promised_limit_exceeds_statutory"' in html
    assert "承诺办结时限 25个工作日超过法定办结时限 20个工作日。" in html
    draft.refresh_from_db()
    assert draft.content["promised_limit"] == {"value": 25, "unit": "working_days", "note": ""}
    assert draft.content["legal_basis"][0]["article"] == "第三十五条第一款"
    assert "＋ 25个工作日" in html


def test_submit_publish_keeps_the_old_version_readable(client, catalogue, food):
    editor, reviewer = catalogue["editor_scj"], catalogue["reviewer_zsj"]
    draft = services.create_draft(item=food, editor=editor)
    content = {**draft.content, "promised_limit": {"value": 10, "unit": "working_days"}}
    services.save_draft(version=draft, editor=editor, content=content, change_summary="承诺 10 个工作日")
    services.submit_draft(version=draft, editor=editor)
    services.publish_version(version=draft, reviewer=reviewer)
    food.refresh_from_db()
    assert food.current_version_id == draft.pk
    assert list(food.versions.values_list("number", "status")) == [(2, "published"), (1, "superseded")]
    assert "10 个工作日" in client.get(f"/services/items/{food.slug}/").content.decode()
    old = client.get(f"/services/items/{food.slug}/versions/1/").content.decode()
    assert "历史版本" in old and "未填写" in old
    new = client.get(f"/services/items/{food.slug}/versions/2/").content.decode()
    assert "承诺办结时限" in new and "＋ 10个工作日" in new
    assert list(
        AuditEvent.objects.filter(action__startswith="guide.").values_list("action", flat=True).order_by("id")
    ) == ["guide.draft_created", "guide.draft_saved", "guide.submitted", "guide.published"]


def test_a_guide_promising_more_than_the_statutory_limit_cannot_be_submitted(catalogue, food):
    editor = catalogue["editor_scj"]
    draft = services.create_draft(item=food, editor=editor)
    content = {**draft.content, "promised_limit": {"value": 25, "unit": "working_days"}}
    services.save_draft(version=draft, editor=editor, content=content, change_summary="承诺 25 个工作日")
    with pytest.raises(Conflict, match="超过法定办结时限 20个工作日。请先修改后再提交。"):
        services.submit_draft(version=draft, editor=editor)
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_a_reviewer_must_give_a_reason_to_send_back(catalogue, food):
    editor, reviewer = catalogue["editor_scj"], catalogue["reviewer_zsj"]
    draft = services.create_draft(item=food, editor=editor)
    services.save_draft(version=draft, editor=editor, content=draft.content, change_summary="核对材料")
    services.submit_draft(version=draft, editor=editor)
    with pytest.raises(DomainError, match="必须填写理由"):
        services.return_version(version=draft, reviewer=reviewer, reason="  ")
    services.return_version(version=draft, reviewer=reviewer, reason="材料清单与法规不一致")
    draft.refresh_from_db()
    assert (draft.status, draft.return_reason) == ("returned", "材料清单与法规不一致")
    assert draft.is_editable


def test_an_editor_of_another_department_cannot_draft_and_nothing_is_created(client, catalogue, food):
    client.force_login(catalogue["editor_wjj"])
    response = client.post(f"/workbench/guides/items/{food.slug}/draft/")
    assert response.status_code == 403
    assert not GuideVersion.objects.filter(item=food, status=GuideStatus.DRAFT).exists()
    assert AuditEvent.objects.filter(action="permission.denied").count() == 1


def test_only_one_open_draft_per_item(catalogue, food):
    services.create_draft(item=food, editor=catalogue["editor_scj"])
    with pytest.raises(Conflict, match="已有未发布的修改稿"):
        services.create_draft(item=food, editor=catalogue["editor_scj"])


def test_an_editor_cannot_publish_their_own_draft(catalogue, food):
    editor = catalogue["editor_scj"]
    draft = services.create_draft(item=food, editor=editor)
    services.save_draft(version=draft, editor=editor, content=draft.content, change_summary="x")
    services.submit_draft(version=draft, editor=editor)
    with pytest.raises(PermissionDeniedError):
        services.publish_version(version=draft, reviewer=editor)
    draft.refresh_from_db()
    assert draft.status == "submitted"


def test_bad_content_is_refused_in_chinese_and_nothing_changes(catalogue, food):
    editor = catalogue["editor_scj"]
    draft = services.create_draft(item=food, editor=editor)
    before = dict(draft.content)
    with pytest.raises(DomainError) as error:
        services.save_draft(
            version=draft, editor=editor, content={**before, "materials": [{"name": ""}]}, change_summary="x"
        )
    assert error.value.message == "办事指南内容有误：申请材料第 1 项：不能为空。"
    draft.refresh_from_db()
    assert draft.content == before


def test_the_form_reports_a_bad_materials_line(client, catalogue, food):
    client.force_login(catalogue["editor_scj"])
    client.post(f"/workbench/guides/items/{food.slug}/draft/")
    draft = GuideVersion.objects.get(item=food, status=GuideStatus.DRAFT)
    response = client.post(f"/workbench/guides/{draft.pk}/", {**FORM, "materials": "申请书 | 传真件"})
    assert "材料形式“传真件”无效" in response.content.decode()


def _guide(key: str, organisation: str, content: dict) -> checks.CheckedGuide:
    return checks.CheckedGuide(
        key=key,
        name="城乡居民基本养老保险参保登记",
        base_code="GG00002000",
        implementation_code=f"{organisation}-GG00002000",
        item_type="public_service",
        exercise_level="township",
        organisation_code=organisation,
        organisation_name={"a": "洪桥街道", "b": "北京街道", "c": "六榕街道"}[organisation],
        content=content,
    )


def test_each_guide_rule_reports_rule_element_and_item():
    evidence = [checks.Evidence(name="营业执照", aliases=(), kind="shared_data", source="条例")]
    content = {
        "legal_basis": [{"law": "公共场所卫生管理条例", "article": ""}],
        "materials": [{"name": "营业执照（副本）", "form": "copy", "required": True, "substitute": ""}],
        "statutory_limit": {"value": 20, "unit": "working_days"},
        "promised_limit": {"value": 21, "unit": "working_days"},
        "fee_charged": True,
        "fee_basis": "",
    }
    findings = checks.check_guides([_guide("1", "a", content)], required_elements=["hours"], evidence=evidence)
    assert [(finding.rule, finding.element, finding.message) for finding in findings] == [
        ("fee_without_basis", "fee_basis", "收取费用但未填写收费依据。"),
        ("legal_basis_without_article", "legal_basis", "《公共场所卫生管理条例》未列明条款。"),
        ("promised_limit_exceeds_statutory", "promised_limit", "承诺办结时限 21个工作日超过法定办结时限 20个工作日。"),
        (
            "replaceable_material_required",
            "materials",
            "“营业执照（副本）”可通过共享数据（营业执照）获取，仍要求申请人提交。",
        ),
        ("required_element_missing", "hours", "未填写“办理时间”。"),
    ]


def test_the_same_item_differing_between_organisations_is_flagged_on_the_odd_one_out():
    same = {"handling_type": "immediate"}
    guides = [_guide("1", "a", same), _guide("2", "b", same), _guide("3", "c", {"handling_type": "promised"})]
    findings = checks.check_guides(guides, required_elements=[], evidence=[])
    assert [(finding.key, finding.element, finding.message) for finding in findings] == [
        ("3", "handling_type", "“办件类型”与北京街道、洪桥街道实施的同一事项（基本编码 GG00002000）不一致。")
    ]


def test_the_nightly_run_counts_findings_per_department_on_the_seeded_data(client, catalogue):
    run = services.run_guide_checks()
    assert run.item_count == 38  # the unsettled outdoor-advertising guide is a draft, not checked here
    by_rule = {}
    for finding in run.findings.all():
        by_rule[finding.rule] = by_rule.get(finding.rule, 0) + 1
    assert by_rule == {
        "legal_basis_without_article": 8,
        "replaceable_material_required": 5,  # 营业执照 shared where available; two only on one route
        "required_element_missing": 566,
        "unresolved_source_conflict": 8,
    }
    client.force_login(catalogue["editor_scj"])
    html = client.get("/workbench/").content.decode()
    assert "区市场监管局" in html and "43 条问题" in html
    assert "区卫健局" not in html.split('id="guide-check-counts"')[1].split("</ul>")[0]
    export = client.get("/workbench/guide-checks/export.xlsx")
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")


def test_overlong_input_is_refused_field_by_field_in_chinese(client, catalogue, food):
    client.force_login(catalogue["editor_scj"])
    client.post(f"/workbench/guides/items/{food.slug}/draft/")
    draft = GuideVersion.objects.get(item=food, status=GuideStatus.DRAFT)
    response = client.post(f"/workbench/guides/{draft.pk}/", {**FORM, "fee_standard": "元" * 501})
    assert "收费标准不能超过 500 个字符（现为 501 个），未作任何更改，请删减后重新提交。" in response.content.decode()
    response = client.post(f"/workbench/guides/{draft.pk}/", {**FORM, "acceptance_conditions": "条件" * 300})
    assert "受理条件第 1 项：不能超过 500 个字符" in response.content.decode()
    draft.refresh_from_db()
    assert draft.change_summary == ""


def test_an_editor_confirms_a_source_conflict_and_the_finding_goes(client, catalogue):
    hygiene = ServiceItem.objects.get(seed_key="public-place-hygiene-licence")
    client.force_login(catalogue["editor_wjj"])
    client.post(f"/workbench/guides/items/{hygiene.slug}/draft/")
    draft = GuideVersion.objects.get(item=hygiene, status=GuideStatus.DRAFT)
    page = client.get(f"/workbench/guides/{draft.pk}/").content.decode()
    assert 'data-rule="unresolved_source_conflict"' in page
    assert "“promised limit”各来源不一致" in page
    form = {
        **FORM,
        "statutory_limit": "20",
        "promised_limit": "0",
        "handling_type": "immediate",
        "legal_basis": "公共场所卫生管理条例 | 第四条",
        "conflicts_resolved": "on",
        "change_summary": "核实：广东 2019 年起告知承诺当场办结",
    }
    client.post(f"/workbench/guides/{draft.pk}/", form)
    draft.refresh_from_db()
    assert draft.content["conflicts"] == []
    assert 'data-rule="unresolved_source_conflict"' not in client.get(f"/workbench/guides/{draft.pk}/").content.decode()


def test_a_published_version_cannot_be_rewritten(catalogue, food):
    version = food.current_version
    version.content = {**version.content, "hours": "全天"}
    with pytest.raises(ValueError, match="cannot change"):
        version.save()
    version.refresh_from_db()
    assert "hours" not in version.content or version.content["hours"] != "全天"


def _unchanged_form(version: GuideVersion) -> dict:
    from yuexiu.catalog.views import GuideForm

    initial = GuideForm.initial_from(version.content, "")
    return {name: "" if value is None else value for name, value in initial.items()}


def test_saving_a_draft_unchanged_keeps_everything_the_form_does_not_show(client, catalogue, food):
    client.force_login(catalogue["editor_scj"])
    client.post(f"/workbench/guides/items/{food.slug}/draft/")
    draft = GuideVersion.objects.get(item=food, status=GuideStatus.DRAFT)
    before = dict(draft.content)
    response = client.post(f"/workbench/guides/{draft.pk}/", {**_unchanged_form(draft), "change_summary": "核对"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.content == before
    assert draft.content["materials"][-1]["condition"] == "视情况提交"
    assert draft.content["legal_basis"][0]["source"]["confidence"] == "M"


def test_a_natural_day_limit_survives_an_edit(client, catalogue):
    permit = ServiceItem.objects.get(seed_key="residence-permit")
    from yuexiu.core import services as core_services
    from yuexiu.core.models import Role

    core_services.grant_role(
        user=catalogue["editor_scj"],
        role=Role.GUIDE_EDITOR,
        organisation=permit.organisation,
        granted_by=catalogue["sysadmin"],
    )
    client.force_login(catalogue["editor_scj"])
    client.post(f"/workbench/guides/items/{permit.slug}/draft/")
    draft = GuideVersion.objects.get(item=permit, status=GuideStatus.DRAFT)
    form = {**_unchanged_form(draft), "promised_limit": "10", "change_summary": "承诺 10 个工作日"}
    assert form["statutory_limit_unit"] == "natural_days"
    client.post(f"/workbench/guides/{draft.pk}/", form)
    draft.refresh_from_db()
    assert draft.content["statutory_limit"]["unit"] == "natural_days"
    assert draft.content["promised_limit"] == {"value": 10, "unit": "working_days", "note": ""}


def test_every_problem_of_the_form_is_reported_at_once(client, catalogue, food):
    client.force_login(catalogue["editor_scj"])
    client.post(f"/workbench/guides/items/{food.slug}/draft/")
    draft = GuideVersion.objects.get(item=food, status=GuideStatus.DRAFT)
    form = {
        **FORM,
        "steps": "受理 | 三天",
        "materials": " | | |\n申请书 | 传真件",
        "faq": "怎么办？",
        "onsite_visits": "99",
        "online_url": "ftp://x",
    }
    html = client.post(f"/workbench/guides/{draft.pk}/", form).content.decode()
    assert "第 1 行：第一栏（名称）不能为空；第 2 行：材料形式“传真件”无效" in html
    assert "第 1 行：环节时限应为工作日数（整数），实际为“三天”" in html
    assert "第 1 行：常见问题应写成“问题 | 回答”" in html
    assert "到办事现场次数不能大于 10。" in html
    assert "网上办理地址应为以 http:// 或 https:// 开头的网址。" in html


def test_an_upper_case_https_address_is_accepted(catalogue, food):
    editor = catalogue["editor_scj"]
    draft = services.create_draft(item=food, editor=editor)
    content = {**draft.content, "online_url": "HTTPS://www.gdzwfw.gov.cn/"}
    services.save_draft(version=draft, editor=editor, content=content, change_summary="网址")
    draft.refresh_from_db()
    assert draft.content["online_url"] == "HTTPS://www.gdzwfw.gov.cn/"


def test_only_http_addresses_are_accepted_for_online_handling(catalogue, food):
    editor = catalogue["editor_scj"]
    draft = services.create_draft(item=food, editor=editor)
    with pytest.raises(DomainError) as error:
        services.save_draft(
            version=draft,
            editor=editor,
            content={**draft.content, "online_url": "javascript:alert(1)"},
            change_summary="网址",
        )
    assert error.value.message == "办事指南内容有误：网上办理地址：应为以 http:// 或 https:// 开头的网址。"


def test_another_departments_editor_cannot_open_or_change_a_version_by_address(client, catalogue, food):
    client.force_login(catalogue["editor_wjj"])
    assert client.get(f"/workbench/guides/{food.current_version_id}/").status_code == 404
    draft = services.create_draft(item=food, editor=catalogue["editor_scj"])
    assert client.get(f"/workbench/guides/{draft.pk}/").status_code == 404
    assert client.post(f"/workbench/guides/{draft.pk}/submit/").status_code == 404


def test_changing_a_submitted_version_is_refused_with_a_message(client, catalogue, food):
    editor = catalogue["editor_scj"]
    draft = services.create_draft(item=food, editor=editor)
    services.save_draft(version=draft, editor=editor, content=draft.content, change_summary="核对")
    services.submit_draft(version=draft, editor=editor)
    client.force_login(editor)
    response = client.post(f"/workbench/guides/{draft.pk}/", {**FORM, "hours": "全天"}, follow=True)
    assert "该版本状态为“待审核”，不能修改。" in response.content.decode()
    draft.refresh_from_db()
    assert "全天" not in str(draft.content)


def test_the_public_history_does_not_show_the_editors_source_conflicts(client, catalogue):
    hygiene = ServiceItem.objects.get(seed_key="public-place-hygiene-licence")
    editor, reviewer = catalogue["editor_wjj"], catalogue["reviewer_zsj"]
    draft = services.create_draft(item=hygiene, editor=editor)
    content = {**draft.content, "conflicts": [], "hours": "工作日 9:00–12:00，14:00–18:00"}
    services.save_draft(version=draft, editor=editor, content=content, change_summary="核实冲突，补充办理时间")
    services.submit_draft(version=draft, editor=editor)
    services.publish_version(version=draft, reviewer=reviewer)
    html = client.get(f"/services/items/{hygiene.slug}/versions/{draft.number}/").content.decode()
    assert "工作日 9:00–12:00，14:00–18:00" in html
    assert "promised limit" not in html and "来源冲突" not in html


def test_a_promise_in_working_days_above_a_statutory_limit_in_natural_days_is_flagged():
    guide = _guide(
        "1",
        "a",
        {
            "statutory_limit": {"value": 15, "unit": "natural_days"},
            "promised_limit": {"value": 16, "unit": "working_days"},
        },
    )
    findings = checks.check_guides([guide], required_elements=[], evidence=[])
    assert [finding.message for finding in findings] == ["承诺办结时限 16个工作日超过法定办结时限 15个自然日。"]
    guide = _guide(
        "1",
        "a",
        {
            "statutory_limit": {"value": 15, "unit": "working_days"},
            "promised_limit": {"value": 20, "unit": "natural_days"},
        },
    )
    assert checks.check_guides([guide], required_elements=[], evidence=[]) == []


def test_guide_reports_are_for_the_guide_roles_not_the_administrators(client, catalogue):
    services.run_guide_checks()
    for username in ("sysadmin", "auditadmin", "window_hongqiao"):
        client.force_login(catalogue[username])
        assert client.get("/workbench/guide-checks/").status_code == 403
        assert client.get("/workbench/guide-checks/export.xlsx").status_code == 403
        assert 'id="guide-check-counts"' not in client.get("/workbench/").content.decode()
    client.force_login(catalogue["editor_scj"])
    html = client.get("/workbench/guide-checks/").content.decode()
    assert "全区检查 38 个事项；您可见范围内的问题 43 条。" in html
