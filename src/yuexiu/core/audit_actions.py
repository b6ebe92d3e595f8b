"""The Chinese name of every audit event, in one table.

Every ``action`` code that any module passes to ``audit.record_event`` (or to a helper that calls
it) has its row here; ``tests/test_audit_labels.py`` reads the source and fails for a code without
one. Codes follow ``<domain>.<what happened>``. The system administrator's console writes
``<model>.created|updated|deleted`` for every model it edits; those are named from the model's
Chinese ``verbose_name`` (``action_label``), so a new model needs no row.
"""

from __future__ import annotations

from functools import cache

ACTION_LABELS: dict[str, str] = {
    # sign-in and accounts
    "auth.login_succeeded": "登录成功",
    "auth.login_failed": "登录失败",
    "auth.logged_out": "退出登录",
    "auth.locked_out": "登录失败次数过多，账号锁定",
    "auth.two_factor_enrolled": "启用两步验证",
    "auth.two_factor_verified": "两步验证通过",
    "auth.two_factor_failed": "两步验证失败",
    "account.registered": "注册账号",
    "account.registration_refused": "注册未通过（填写有误）",
    "account.registration_duplicate": "用已注册的身份证号再次注册（已短信提醒原账号）",
    "account.registration_throttled": "注册请求过于频繁被拒",
    "account.preference_changed": "修改个人偏好",
    "account.password_reset_requested": "申请找回密码（发送短信验证码）",
    "account.password_reset_throttled": "找回密码请求过于频繁被拒",
    "account.password_reset_failed": "找回密码验证码错误",
    "account.password_reset": "找回密码并重置密码",
    "account.unlock_requested": "申请解除登录锁定（发送短信验证码）",
    "account.unlock_throttled": "解除登录锁定请求过于频繁被拒",
    "account.unlock_failed": "解除登录锁定验证码错误",
    "account.unlocked": "通过短信验证码解除登录锁定",
    "account.password_changed": "修改密码",
    "account.password_change_failed": "修改密码时当前密码错误",
    "account.password_change_throttled": "修改密码错误次数过多被拒",
    "account.password_set_by_administrator": "系统管理员重置他人密码",
    "personal_data.viewed": "查看完整个人信息",
    "permission.denied": "越权访问被拒绝",
    "security.foreign_object_requested": "访问他人的办件或记录（已按不存在答复）",
    "role.granted": "授予角色",
    "role.revoked": "撤销角色",
    # reference data and the audit log itself
    "organisation.loaded": "导入组织机构",
    "organisation.updated": "修改组织机构",
    "rule_parameter.loaded": "导入规则参数",
    "calendar.package_loaded": "载入节假日数据",
    "calendar.notice_imported": "导入节假日安排（国务院通知）",
    "calendar.deadlines_recomputed": "导入节假日安排后重算未结期限",
    "calendar.fallback_changed": "切换节假日周末兜底规则",  # no longer recorded; named for older entries
    "audit.exported": "导出审计日志",
    "audit.retention_purged": "清理保存期满的审计日志",
    # service catalogue and guides
    "catalog.seeded": "载入事项目录",
    "catalog.imported": "导入事项",
    "catalog.import_failed": "导入事项失败",
    "guide.draft_created": "新建办事指南草稿",
    "guide.draft_saved": "保存办事指南草稿",
    "guide.submitted": "提交办事指南审核",
    "guide.published": "发布办事指南",
    "guide.returned": "退回办事指南修改",
    "guide.checks_run": "运行办事指南检查",
    # cases (``case.<CaseEvent action>``, see cases.models.ACTION_LABELS)
    "case.citywide_registered": "登记全市通办办件",
    "case.handed_over": "移交全市通办材料",
    "case.submitted": "提交办件申请",
    "case.accepted": "受理办件",
    "case.declined": "不予受理办件",
    "case.correction_requested": "一次性告知补正",
    "case.corrected": "提交补正材料",
    "case.special_procedure_started": "办件进入特殊环节",
    "case.special_procedure_ended": "办件特殊环节结束",
    "case.approved": "准予办理",
    "case.refused": "不予办理",
    "case.delivered": "送达办理结果",
    "case.closed": "办件办结",
    "case.deadlines_recomputed": "按新节假日安排重算办件期限",
    "case.extension_requested": "申请延长审批期限",
    "case.deadline_extended": "批准延长审批期限",
    "case.extension_rejected": "不批准延长审批期限",
    "case.attachment_viewed": "查看办件材料",
    "bundle_case.submitted": "提交一件事申请",
    "bundle_case.delivered": "送达一件事办理结果",
    "bundle_case.extension_requested": "申请延长一件事联合办理期限",
    "bundle_case.extension_approved": "批准延长一件事联合办理期限",
    "bundle_case.extension_rejected": "不批准延长一件事联合办理期限",
    # supervision
    "supervision.item_added": "设为重点监督事项",
    "supervision.item_removed": "取消重点监督事项",
    "supervision.order_responded": "回复督办单",
    "supervision.order_closed": "督办单核实办结",
    "supervision.order_sent_back": "督办单退回重办",
    "supervision.observation_filed": "提交廉政监督意见",
    # 好差评 (``rectification.<step>``, see ratings.models.Step)
    "rating.given": "提交服务评价",
    "rating.visit_rated": "提交现场服务评价",
    "rating.device_bound": "绑定评价设备（窗口评价器、自助终端）",
    "rating.device_revoked": "解绑评价设备",
    "rating.code_refused": "自助终端评价码错误",
    "rating.code_throttled": "自助终端评价码错误次数过多被拒",
    "rating.appeal_filed": "提出评价申诉",
    "rating.appeal_upheld": "评价申诉成立",
    "rating.appeal_rejected": "评价申诉不成立",
    "rating.review_requested": "评价人申请复核差评处理",
    "rating.review_maintained": "差评处理复核：维持原处理",
    "rating.review_redone": "差评处理复核：重新整改",
    "rating.self_check_sampled": "抽取好评自查样本",
    "rating.self_checked": "记录好评自查结果",
    "rectification.verify": "差评核实",
    "rectification.classify": "差评分类处置",
    "rectification.rectify": "差评整改",
    "rectification.reply": "差评答复",
    "rectification.callback": "差评回访",
    # 政策兑现
    "policies.rules_saved": "保存政策规则文件",
    "policies.validity_recorded": "记录政策文件有效期",
    "policies.validity_refused": "记录政策文件有效期被拒",
    "policies.registry_imported": "导入企业库",
    "policies.run_started": "发起政策匹配",
    "policies.run_finished": "政策匹配完成",
    "policies.approved": "兑现审核通过",
    "policies.rejected": "不予兑现",
    "policies.refreshed": "按最新数据重新核对兑现候选",
    "policies.published": "发布兑现公示",
    "policies.objection_received": "收到公示异议",
    "policies.objection_decided": "处理公示异议",
    "policies.publicity_closed": "公示结束",
    "policies.publicity_rescheduled": "按新节假日安排调整公示截止时间",
    "policies.account_confirmed": "企业确认收款账户",
    "policies.disbursement_ordered": "下达拨付单",
    "policies.paid": "登记资金拨付",
    "policies.applied": "企业申报兑现事项",
    "policies.apply_refused": "企业申报被拒",
    "policies.confirm_refused": "确认收款账户被拒",
    "policies.run_refused": "发起政策匹配被拒",
    "policies.publish_refused": "发布兑现公示被拒",
    "policies.rules_refused": "保存政策规则文件被拒",
    "policies.registry_import_refused": "导入企业库被拒",
    "policies.approve_refused": "兑现审核通过操作被拒",
    "policies.reject_refused": "不予兑现操作被拒",
    "policies.refresh_refused": "重新核对兑现候选被拒",
    "policies.objection_refused": "登记公示异议被拒",
    "policies.decide_objection_refused": "处理公示异议被拒",
    "policies.close_publicity_refused": "结束公示被拒",
    "policies.order_refused": "下达拨付单被拒",
    "policies.pay_refused": "登记资金拨付被拒",
}

CONSOLE_CHANGES = {"created": "新增", "updated": "修改", "deleted": "删除"}


@cache
def _console_actions() -> dict[str, str]:
    """``<model>.created|updated|deleted`` for every installed model: the console's audit codes."""
    from django.apps import apps

    return {
        f"{model._meta.model_name}.{change}": f"管理后台{verb}{model._meta.verbose_name}"
        for model in apps.get_models()
        for change, verb in CONSOLE_CHANGES.items()
    }


def known_actions() -> dict[str, str]:
    """Every action code the platform records, with its Chinese name."""
    return {**_console_actions(), **ACTION_LABELS}


def action_label(action: str) -> str:
    """The Chinese name of ``action`` (the code itself for an unknown one, e.g. an old row)."""
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    return _console_actions().get(action, action)


def matching_actions(text: str) -> list[str]:
    """Codes whose Chinese name contains ``text`` (``登录`` finds the sign-in events), sorted."""
    text = text.strip()
    if not text:
        return []
    return sorted(code for code, label in known_actions().items() if text in label)
