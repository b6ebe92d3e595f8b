"""The elements of a 办事指南 (service guide), as one validated document.

A guide version stores its elements as one JSON document checked by ``GuideContent``; the element
list follows domain/rules.md §4.3 (merged from the Yulin portal, the Zhejiang template and the
table of contents of DB31/T 544—2024). Pure module: no Django import, so the guide checks, the
bundle merge and the import/export work on plain dictionaries.

Units: every time limit is a number of days with its unit, ``working_days`` (工作日, the unit of
行政许可法 第八十二条) or ``natural_days`` (自然日, where the source says 日 outside licensing law).
Money is in 元.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Confidence = Literal["H", "M", "L", "U"]
LimitUnit = Literal["working_days", "natural_days"]
MaterialForm = Literal["original", "copy", "original_and_copy", "electronic", "online_form"]
Substitute = Literal["", "shared_data", "e_licence", "produced_in_bundle"]
ServiceObject = Literal["natural_person", "legal_person", "both"]
HandlingType = Literal["immediate", "promised"]
OnlineDepth = Literal["", "information", "download", "online_application", "full_online"]

LIMIT_UNIT_LABELS = {"working_days": "个工作日", "natural_days": "个自然日"}
MATERIAL_FORM_LABELS = {
    "original": "原件",
    "copy": "复印件",
    "original_and_copy": "原件及复印件",
    "electronic": "电子材料",
    "online_form": "在线填报",
}
SUBSTITUTE_LABELS = {
    "": "",
    "shared_data": "可通过数据共享获取，免提交",
    "e_licence": "可用电子证照代替，免提交",
    "produced_in_bundle": "由“一件事”前序环节生成，免提交",
    "merged_form": "由“一表申请”代替，免提交",
}
SERVICE_OBJECT_LABELS = {"natural_person": "自然人", "legal_person": "法人", "both": "自然人、法人"}
HANDLING_TYPE_LABELS = {"immediate": "即办件", "promised": "承诺件"}
ONLINE_DEPTH_LABELS = {
    "": "未填写",
    "information": "一级（办事指南网上公开）",
    "download": "二级（表格下载）",
    "online_application": "三级（网上申请、窗口办结）",
    "full_online": "四级（全程网办）",
}


# One line of a list element (a condition, a place, a delivery way).
Line = Annotated[str, StringConstraints(max_length=500)]
# An address a citizen may open: http or https only (never javascript: or data:), or empty.
WebAddress = Annotated[str, StringConstraints(max_length=500, pattern=r"^((?i:https?)://[^\s<>\"']+)?$")]


class _Element(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Source(_Element):
    """Where a value came from: the page read and how sure we are (H/M/L/U, see domain/rules.md)."""

    url: str = Field("", max_length=500)
    confidence: Confidence = "U"
    note: str = Field("", max_length=500)


class TimeLimit(_Element):
    value: int = Field(ge=0, le=3650)
    unit: LimitUnit = "working_days"
    note: str = Field("", max_length=500)


class LegalBasis(_Element):
    law: str = Field(min_length=1, max_length=200)
    article: str = Field("", max_length=100)
    gist: str = Field("", max_length=1000)
    source: Source = Source()


class Material(_Element):
    key: str = Field("", max_length=100, description="材料标识：多个事项要求同一材料时相同，用于“一套材料”去重")
    name: str = Field(min_length=1, max_length=200)
    form: MaterialForm = "original"
    copies: int = Field(1, ge=0, le=99)
    required: bool = True
    condition: str = Field("", max_length=200, description="适用情形，如“仅自动售货设备”")
    blank_form_url: WebAddress = ""
    sample_url: WebAddress = ""
    substitute: Substitute = ""


class ProcessStep(_Element):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=1000)
    limit: TimeLimit | None = None
    is_special_procedure: bool = False
    counts_in_limit: bool = True
    legal_basis: str = Field("", max_length=200)


class FormField(_Element):
    key: str = Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(min_length=1, max_length=100)
    kind: Literal["text", "id_number", "phone", "date", "choice", "number", "bank_account"] = "text"
    required: bool = True
    choices: list[str] = []
    sex: Literal["", "female", "male"] = Field("", description="身份证号须属于该性别（如母亲、父亲）")
    max_age_years: int | None = Field(None, ge=0, le=150, description="日期距今不超过的年数（如新生儿未满 1 周岁）")


class Question(_Element):
    question: str = Field(min_length=1, max_length=300)
    answer: str = Field(min_length=1, max_length=2000)


class ConflictValue(_Element):
    value: str = Field(max_length=300)
    source: str = Field("", max_length=300)
    url: str = Field("", max_length=500)
    confidence: Confidence = "U"


class Conflict(_Element):
    field: str = Field(max_length=100)
    values: list[ConflictValue]


class GuideContent(_Element):
    """All elements of one guide version. Empty strings and empty lists mean "not filled in"."""

    service_object: ServiceObject | Literal[""] = ""
    applicants: str = Field("", max_length=1000, description="申请人范围")
    acceptance_conditions: list[Line] = Field([], max_length=50)
    quantity_limit: str = Field("", max_length=300)
    legal_basis: list[LegalBasis] = Field([], max_length=50)
    materials: list[Material] = Field([], max_length=100)
    steps: list[ProcessStep] = Field([], max_length=50)
    statutory_limit: TimeLimit | None = None
    promised_limit: TimeLimit | None = None
    handling_type: HandlingType | Literal[""] = ""
    fee_charged: bool | None = None
    fee_standard: str = Field("", max_length=500)
    fee_basis: str = Field("", max_length=500)
    places: list[Line] = Field([], max_length=50)
    hours: str = Field("", max_length=300)
    onsite_visits: int | None = Field(None, ge=0, le=10)
    online_url: WebAddress = ""
    online_depth: OnlineDepth = ""
    onsite_visits_note: str = Field(
        "", max_length=300, description="到现场次数因情形而异时的说明，如“邮寄 0 次，现场领取 1 次”"
    )
    result_name: str = Field("", max_length=200)
    result_type: Literal["", "licence", "approval_document", "other"] = ""
    result_validity: str = Field("", max_length=500, description="审批结果有效期及延期办法")
    delivery: list[Line] = Field([], max_length=20)
    consultation: str = Field("", max_length=300)
    complaint: str = Field("", max_length=300)
    faq: list[Question] = Field([], max_length=100)
    form_fields: list[FormField] = Field([], max_length=100)
    sources: dict[str, list[Source]] = {}
    conflicts: list[Conflict] = []
    # What the sources leave open and an editor must settle before the guide is published (待核实):
    # staff-only, and a guide holding one cannot be submitted or published (checks.unverified_caveat).
    caveats: list[Line] = Field([], max_length=20)

    @field_validator("acceptance_conditions", "places", "delivery", "caveats")
    @classmethod
    def _no_blank_lines(cls, values: list[str]) -> list[str]:
        return [value.strip() for value in values if value and value.strip()]


# Elements compared across organisations for 同事同标 (the same item, the same standard): the
# standard elements of domain/rules.md §4.3 that do not depend on where the item is handled (places,
# hours and contacts do).
STANDARDISED_ELEMENTS: tuple[str, ...] = (
    "service_object",
    "acceptance_conditions",
    "quantity_limit",
    "legal_basis",
    "materials",
    "steps",
    "statutory_limit",
    "promised_limit",
    "handling_type",
    "fee_charged",
    "fee_standard",
    "fee_basis",
    "onsite_visits",
    "online_depth",
    "result_name",
    "result_validity",
    "delivery",
)

ELEMENT_LABELS: dict[str, str] = {
    "name": "事项名称",
    "base_code": "基本编码",
    "implementation_code": "实施编码",
    "item_type": "事项类型",
    "exercise_level": "行使层级",
    "organisation": "实施主体",
    "service_object": "服务对象",
    "applicants": "申请人范围",
    "acceptance_conditions": "受理条件",
    "quantity_limit": "数量限制",
    "legal_basis": "设定依据",
    "materials": "申请材料",
    "steps": "办理流程",
    "statutory_limit": "法定办结时限",
    "promised_limit": "承诺办结时限",
    "handling_type": "办件类型",
    "fee_charged": "是否收费",
    "fee_standard": "收费标准",
    "fee_basis": "收费依据",
    "places": "办理地点",
    "hours": "办理时间",
    "onsite_visits": "到办事现场次数",
    "onsite_visits_note": "到现场次数说明",
    "online_url": "网上办理地址",
    "online_depth": "网办深度",
    "result_name": "审批结果名称",
    "result_type": "审批结果类型",
    "result_validity": "有效期与延期",
    "delivery": "结果送达方式",
    "consultation": "咨询方式",
    "complaint": "监督投诉方式",
    "faq": "常见问题",
    "form_fields": "申请表字段",
    "conflicts": "来源冲突",
    "caveats": "待核实事项",
}


# ---- Text forms of the list elements: one entry per line, parts separated by "|" (or "｜").
# The staff editor's text areas and the spreadsheet import/export use the same forms.

LINE_FORMATS: dict[str, str] = {
    "legal_basis": "法规名称 | 条款 | 要点（可省略）",
    "materials": (
        "材料名称 | 形式（原件/复印件/原件及复印件/电子材料/在线填报） | 份数 | 必需/非必需"
        " | 替代（电子证照/共享数据，可空） | 适用情形（可空）"
    ),
    "steps": "环节名称 | 时限（工作日，可省略） | 特殊环节（是/否） | 计入办结时限（是/否）",
    "faq": "问题 | 回答",
    "acceptance_conditions": "每行一条",
    "places": "每行一个地点",
    "delivery": "每行一种方式",
    "caveats": "每行一项",
}
# List elements whose entries are plain lines of text.
PLAIN_LINE_ELEMENTS = ("acceptance_conditions", "places", "delivery", "caveats")
_FORM_BY_LABEL = {label: key for key, label in MATERIAL_FORM_LABELS.items()}
_SUBSTITUTE_BY_LABEL = {"电子证照": "e_licence", "共享数据": "shared_data", "一件事内生成": "produced_in_bundle"}
# Materials carry more than their text form shows; these survive an edit of the same material.
_HIDDEN = {
    "materials": ("key", "blank_form_url", "sample_url"),
    "legal_basis": ("source",),
    "steps": ("description", "legal_basis"),
}
_SUBSTITUTE_TEXT = {value: label for label, value in _SUBSTITUTE_BY_LABEL.items()}
_YES = {"是", "必需", "必须", "需要", "y", "yes", "true", "1"}
_NO = {"否", "非必需", "不需要", "n", "no", "false", "0", ""}


class LineError(ValueError):
    """A line that cannot be read; the message is Chinese and names the line."""


def _parts(line: str) -> list[str]:
    return [part.strip() for part in line.replace("｜", "|").split("|")]


def _flag(text: str, line_number: int, label: str) -> bool:
    value = text.strip().lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise LineError(f"第 {line_number} 行：“{label}”应填“是”或“否”，实际为“{text}”。")


def parse_lines(element: str, text: str) -> list[Any]:
    """Read the text form of a list element (``LINE_FORMATS``) into its JSON entries.

    Raises ``LineError`` naming every bad line (``第 1 行：…；第 3 行：…。``).
    """
    entries: list[Any] = []
    problems: list[str] = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        try:
            entry = _parse_line(element, line, number)
        except LineError as error:
            problems.append(str(error).rstrip("。"))
            continue
        entries.append(entry)
    if problems:
        raise LineError("；".join(problems) + "。")
    return entries


def _parse_line(element: str, line: str, number: int) -> Any:
    """One line of a list element's text form; raises ``LineError`` naming line ``number``."""
    if element in PLAIN_LINE_ELEMENTS:
        return line
    parts = _parts(line)
    if not parts[0]:
        raise LineError(f"第 {number} 行：第一栏（名称）不能为空。")
    if element == "legal_basis":
        return {"law": parts[0], "article": _at(parts, 1), "gist": _at(parts, 2)}
    if element == "materials":
        form_label = _at(parts, 1) or "原件"
        if form_label not in _FORM_BY_LABEL:
            raise LineError(f"第 {number} 行：材料形式“{form_label}”无效，应为{'、'.join(_FORM_BY_LABEL)}之一。")
        copies = _at(parts, 2) or "1"
        if not copies.isdecimal() or int(copies) > 99:
            raise LineError(f"第 {number} 行：份数应为 0 到 99 的整数，实际为“{copies}”。")
        substitute = _at(parts, 4)
        if substitute and substitute not in _SUBSTITUTE_BY_LABEL:
            raise LineError(f"第 {number} 行：替代方式应为“电子证照”或“共享数据”，实际为“{substitute}”。")
        return {
            "name": parts[0],
            "form": _FORM_BY_LABEL[form_label],
            "copies": int(copies),
            "required": _flag(_at(parts, 3) or "是", number, "是否必需"),
            "substitute": _SUBSTITUTE_BY_LABEL.get(substitute, ""),
            "condition": _at(parts, 5),
        }
    if element == "steps":
        limit_text = _at(parts, 1)
        if limit_text and not limit_text.isdecimal():
            raise LineError(f"第 {number} 行：环节时限应为工作日数（整数），实际为“{limit_text}”。")
        return {
            "name": parts[0],
            "limit": {"value": int(limit_text), "unit": "working_days"} if limit_text else None,
            "is_special_procedure": _flag(_at(parts, 2), number, "特殊环节"),
            "counts_in_limit": _flag(_at(parts, 3) or "是", number, "计入办结时限"),
        }
    if element == "faq":
        if len(parts) < 2 or not parts[1]:
            raise LineError(f"第 {number} 行：常见问题应写成“问题 | 回答”。")
        return {"question": parts[0], "answer": "|".join(parts[1:])}
    raise LineError(f"要素“{element}”没有文本格式。")


def carry_over(element: str, previous: list[Any] | None, entries: list[Any]) -> list[Any]:
    """``entries`` (read from a text form) with the attributes the text form does not show taken from
    the matching entry of ``previous`` (same material name, same law, same step name): an edit never
    drops a material's key or sample link, a legal basis's source, or a step's description. A step
    whose limit is unchanged keeps its unit."""
    hidden = _HIDDEN.get(element)
    if not hidden or not previous:
        return entries
    match_key = "law" if element == "legal_basis" else "name"
    by_name = {entry.get(match_key): entry for entry in previous if isinstance(entry, dict)}
    result = []
    for entry in entries:
        old = by_name.get(entry.get(match_key))
        if old is None:
            result.append(entry)
            continue
        merged = {**{name: old[name] for name in hidden if name in old}, **entry}
        if element == "steps":
            old_limit, new_limit = old.get("limit"), entry.get("limit")
            if old_limit and new_limit and old_limit.get("value") == new_limit.get("value"):
                merged["limit"] = old_limit
        result.append(merged)
    return result


def format_lines(element: str, entries: list[Any]) -> str:
    """The text form of a list element; ``parse_lines`` reads it back to the same entries."""
    lines: list[str] = []
    for entry in entries or []:
        if element in PLAIN_LINE_ELEMENTS:
            lines.append(str(entry))
        elif element == "legal_basis":
            lines.append(" | ".join(part for part in (entry["law"], entry.get("article", ""), entry.get("gist", ""))))
        elif element == "materials":
            lines.append(
                " | ".join(
                    [
                        entry["name"],
                        MATERIAL_FORM_LABELS[entry.get("form", "original")],
                        str(entry.get("copies", 1)),
                        "必需" if entry.get("required", True) else "非必需",
                        _SUBSTITUTE_TEXT.get(entry.get("substitute", ""), ""),
                        entry.get("condition", ""),
                    ]
                ).rstrip(" |")
            )
        elif element == "steps":
            limit = entry.get("limit") or {}
            lines.append(
                " | ".join(
                    [
                        entry["name"],
                        str(limit.get("value", "")) if limit else "",
                        "是" if entry.get("is_special_procedure") else "否",
                        "是" if entry.get("counts_in_limit", True) else "否",
                    ]
                )
            )
        elif element == "faq":
            lines.append(f"{entry['question']} | {entry['answer']}")
    return "\n".join(line.rstrip(" |") if element == "legal_basis" else line for line in lines)


def _at(parts: list[str], index: int) -> str:
    return parts[index] if index < len(parts) else ""


def describe(content: dict[str, Any]) -> dict[str, list[str]]:
    """Each filled element as readable Chinese lines, in ``ELEMENT_LABELS`` order: for the guide page's
    diff between versions."""
    lines: dict[str, list[str]] = {}
    for element in ELEMENT_LABELS:
        value = content.get(element)
        if value in (None, "", [], {}):
            continue
        if element in LINE_FORMATS:
            lines[element] = format_lines(element, value).splitlines()
        elif element in ("statutory_limit", "promised_limit"):
            lines[element] = [f"{value['value']}{LIMIT_UNIT_LABELS[value['unit']]}"]
        elif element == "handling_type":
            lines[element] = [HANDLING_TYPE_LABELS[value]]
        elif element == "service_object":
            lines[element] = [SERVICE_OBJECT_LABELS[value]]
        elif element == "online_depth":
            lines[element] = [ONLINE_DEPTH_LABELS[value]]
        elif element == "fee_charged":
            lines[element] = ["收费" if value else "不收费"]
        elif element == "form_fields":
            lines[element] = [f"{entry['label']}（{entry['key']}）" for entry in value]
        elif element == "conflicts":
            lines[element] = [
                f"{entry['field']}：" + "；".join(candidate["value"] for candidate in entry["values"])
                for entry in value
            ]
        else:
            lines[element] = [str(value)]
    return lines
