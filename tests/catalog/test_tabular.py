"""Spreadsheet tables for catalogue import/export: content detection, encodings, row numbers, user
messages, and formula-safe writers. Pure module, no database."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from yuexiu.core.tabular import (
    MESSAGE_BAD_XLSX,
    MESSAGE_EMPTY,
    MESSAGE_ENCODING,
    MESSAGE_MARKUP,
    MESSAGE_NUL,
    MESSAGE_UTF16,
    MESSAGE_XLS,
    Table,
    TableError,
    TableRow,
    clean_sheet_title,
    column_width,
    display_width,
    escape_formula,
    excel_text,
    read_table,
    strip_formula_guard,
    write_csv,
    write_xlsx,
)

FOOD = "食品经营许可（新办）"
SEWAGE = "城镇污水排入排水管网许可"
HEADER = ["事项名称", "实施编码", "实施主体"]
CSV_TEXT = (
    "事项名称,实施编码,实施主体\r\n"
    f"{FOOD},11440104MB2C91234X4442111001000,越秀区市场监督管理局\r\n"
    f"{SEWAGE},11440104007502419R4000117003000,越秀区水务局\r\n"
)
EXPECTED_ROWS = [
    TableRow(
        number=2,
        values={"事项名称": FOOD, "实施编码": "11440104MB2C91234X4442111001000", "实施主体": "越秀区市场监督管理局"},
    ),
    TableRow(
        number=3,
        values={"事项名称": SEWAGE, "实施编码": "11440104007502419R4000117003000", "实施主体": "越秀区水务局"},
    ),
]


def error_of(data: bytes, **kwargs: object) -> str:
    with pytest.raises(TableError) as caught:
        read_table(data, **kwargs)  # type: ignore[arg-type]
    assert str(caught.value) == caught.value.message
    return caught.value.message


def xlsx_bytes(workbook: Workbook) -> bytes:
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


# --- CSV encodings -----------------------------------------------------------------------------------


def test_utf8_with_bom() -> None:
    table = read_table(b"\xef\xbb\xbf" + CSV_TEXT.encode("utf-8"))
    assert table == Table(format="csv", encoding="utf-8-sig", header=HEADER, rows=EXPECTED_ROWS)


def test_utf8_without_bom() -> None:
    table = read_table(CSV_TEXT.encode("utf-8"))
    assert table == Table(format="csv", encoding="utf-8", header=HEADER, rows=EXPECTED_ROWS)


def test_gb18030_including_characters_outside_gbk() -> None:
    text = CSV_TEXT + "㐂䶮事项,A-3,越秀区政务服务和数据管理局\r\n"
    with pytest.raises(UnicodeEncodeError):
        text.encode("gbk")
    table = read_table(text.encode("gb18030"))
    assert (table.format, table.encoding, table.header) == ("csv", "gb18030", HEADER)
    assert table.rows[:2] == EXPECTED_ROWS
    assert table.rows[2] == TableRow(
        number=4, values={"事项名称": "㐂䶮事项", "实施编码": "A-3", "实施主体": "越秀区政务服务和数据管理局"}
    )


def test_gbk_file_from_chinese_windows_excel_reads_as_gb18030() -> None:
    data = CSV_TEXT.encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    table = read_table(data, required_columns=["事项名称", "实施编码"])
    assert table == Table(format="csv", encoding="gb18030", header=HEADER, rows=EXPECTED_ROWS)


def test_all_chinese_header_and_names() -> None:
    text = (
        "序号,事项名称,事项类型,办理时限\n"
        "1,食品经营许可（新办）,行政许可,十个工作日\n"
        "2,城镇污水排入排水管网许可,行政许可,二十个工作日\n"
    )
    table = read_table(text.encode("gb18030"))
    assert table.header == ["序号", "事项名称", "事项类型", "办理时限"]
    assert [row.values for row in table.rows] == [
        {"序号": "1", "事项名称": FOOD, "事项类型": "行政许可", "办理时限": "十个工作日"},
        {"序号": "2", "事项名称": SEWAGE, "事项类型": "行政许可", "办理时限": "二十个工作日"},
    ]


def test_cells_are_stripped_including_full_width_spaces_and_missing_cells_are_empty() -> None:
    table = read_table("事项名称, 实施编码 ,备注\n\u3000食品经营许可（新办） ,\t12 \n".encode())
    assert table.header == ["事项名称", "实施编码", "备注"]
    assert table.rows == [TableRow(number=2, values={"事项名称": FOOD, "实施编码": "12", "备注": ""})]


def test_stray_bom_and_zero_width_characters_are_removed_from_the_header() -> None:
    data = b"\xef\xbb\xbf" + "\ufeff事项名称,\u200b实施编码\n甲,1\n".encode()
    table = read_table(data, required_columns=["事项名称", "实施编码"])
    assert table.encoding == "utf-8-sig"
    assert table.header == ["事项名称", "实施编码"]


def test_utf16_is_refused_with_a_clear_message() -> None:
    assert error_of("事项名称\t实施编码\r\n".encode("utf-16")) == MESSAGE_UTF16  # little-endian BOM
    assert error_of(b"\xfe\xff" + "事项名称".encode("utf-16-be")) == MESSAGE_UTF16
    assert MESSAGE_UTF16 == (
        "文件是 UTF-16 编码（如 Excel 的“Unicode 文本”）：请另存为 UTF-8 编码的 CSV，或 Excel（.xlsx）文件。"
    )


def test_utf16_without_bom_is_refused_for_its_nul_bytes() -> None:
    assert error_of("事项名称,实施编码\r\n".encode("utf-16-le")) == MESSAGE_NUL


def test_undecodable_bytes_are_refused() -> None:
    message = error_of(b"name,code\r\n\xff\xfe\xfd,1\r\n")
    assert message == "无法识别文件编码：请另存为 UTF-8 或 GB18030 编码的 CSV，或 Excel（.xlsx）文件。"
    assert message == MESSAGE_ENCODING
    assert error_of(b"\xef\xbb\xbfname\r\n\xff\r\n") == MESSAGE_ENCODING  # a BOM, then no UTF-8


# --- content detection -------------------------------------------------------------------------------


def test_xlsx_is_detected_from_its_bytes_without_a_file_name() -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["事项名称", "序号", "比例", "受理日期", "是否收费", "空"])
    sheet.append([FOOD, 3.0, 0.1 + 0.2, datetime(2025, 3, 1), False, None])
    sheet.append([SEWAGE, 12, 1.25, datetime(2025, 3, 1, 9, 30), True, None])
    workbook.create_sheet("第二页").append(["不会读到"])
    table = read_table(xlsx_bytes(workbook), required_columns=["事项名称"])
    assert (table.format, table.encoding) == ("xlsx", None)
    assert table.header == ["事项名称", "序号", "比例", "受理日期", "是否收费", "空"]
    assert table.rows == [
        TableRow(
            number=2,
            values={
                "事项名称": FOOD,
                "序号": "3",
                "比例": "0.3",
                "受理日期": "2025-03-01",
                "是否收费": "FALSE",
                "空": "",
            },
        ),
        TableRow(
            number=3,
            values={
                "事项名称": SEWAGE,
                "序号": "12",
                "比例": "1.25",
                "受理日期": "2025-03-01 09:30:00",
                "是否收费": "TRUE",
                "空": "",
            },
        ),
    ]


def test_xlsx_row_numbers_follow_the_sheet_and_a_table_may_start_in_column_b() -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet["B3"] = "事项名称"
    sheet["C3"] = "实施编码"
    sheet["B5"] = FOOD
    sheet["C5"] = 1001
    sheet["C8"] = "  "  # blank after stripping: skipped
    sheet["B9"] = SEWAGE
    table = read_table(xlsx_bytes(workbook))
    assert table.header == ["事项名称", "实施编码"]
    assert table.rows == [
        TableRow(number=5, values={"事项名称": FOOD, "实施编码": "1001"}),
        TableRow(number=9, values={"事项名称": SEWAGE, "实施编码": ""}),
    ]
    sheet["A7"] = "无列名"
    assert error_of(xlsx_bytes(workbook)) == "第 7 行的 A 列有内容，但表头中该列没有列名：请填写列名，或删除该列。"


def test_csv_starting_with_pk_text_is_still_csv() -> None:
    table = read_table("PK,名称\r\n1,食品经营许可（新办）\r\n".encode())
    assert table == Table(
        format="csv",
        encoding="utf-8",
        header=["PK", "名称"],
        rows=[TableRow(number=2, values={"PK": "1", "名称": FOOD})],
    )
    assert read_table(b"PKG,Name\r\n7,x\r\n").header == ["PKG", "Name"]


def test_zip_signature_that_is_not_an_xlsx_is_refused() -> None:
    assert error_of(b"PK\x03\x04 not really a zip") == MESSAGE_BAD_XLSX
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("word/document.xml", "<w:document/>")
    assert error_of(archive.getvalue()) == MESSAGE_BAD_XLSX
    truncated = write_xlsx(["名称"], [[FOOD]])[:400]
    assert error_of(truncated) == MESSAGE_BAD_XLSX


def test_old_xls_is_refused() -> None:
    message = error_of(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    assert message == MESSAGE_XLS
    assert message == (
        "不支持旧版 Excel（.xls）文件，也无法读取设有打开密码的 Excel 文件：请在 Excel 或 WPS 中另存为"
        " .xlsx 文件（不设密码）后再上传。"
    )


def test_html_disguised_as_xls_is_refused() -> None:
    data = '<html xmlns:x="urn:schemas-microsoft-com:office:excel"><table><tr><td>事项名称</td></tr></table></html>'
    assert error_of(data.encode("gb18030")) == MESSAGE_MARKUP
    assert error_of(b'\xef\xbb\xbf<?xml version="1.0"?>\r\n<Workbook/>') == MESSAGE_MARKUP


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\r\n\r\n", b" , ,\n,,\n", b"\xef\xbb\xbf\xef\xbb\xbf\n"])
def test_empty_file_or_no_header(data: bytes) -> None:
    assert error_of(data) == "文件为空或没有表头行。"
    assert MESSAGE_EMPTY == "文件为空或没有表头行。"


def test_empty_xlsx_has_no_header() -> None:
    assert error_of(xlsx_bytes(Workbook())) == MESSAGE_EMPTY


def test_header_only_gives_no_rows() -> None:
    assert read_table("事项名称,实施编码\r\n".encode()) == Table("csv", "utf-8", ["事项名称", "实施编码"], [])


# --- header and row checks ---------------------------------------------------------------------------


def test_duplicate_header_is_named() -> None:
    message = error_of("事项名称,实施编码, 事项名称 ,备注,备注\n".encode())
    assert message == "表头中有重复的列名：事项名称、备注。"


def test_missing_required_columns_are_listed_in_order() -> None:
    message = error_of(
        "序号,实施主体\n1,越秀区水务局\n".encode(), required_columns=["事项名称", "实施主体", "实施编码"]
    )
    assert message == "缺少必填列：事项名称、实施编码"


def test_row_longer_than_header_names_its_row_number() -> None:
    data = "事项名称,实施编码\n甲,1\n乙,2\n丙,3\n丁,4,多出\n".encode()
    assert error_of(data) == "第 5 行的列数多于表头。"


def test_trailing_empty_cells_beyond_the_header_are_ignored() -> None:
    table = read_table("事项名称,实施编码,,\n甲,1,,\n乙,2,, \n".encode())
    assert table.header == ["事项名称", "实施编码"]
    assert [row.values for row in table.rows] == [
        {"事项名称": "甲", "实施编码": "1"},
        {"事项名称": "乙", "实施编码": "2"},
    ]


def test_more_rows_than_the_limit() -> None:
    lines = ["事项名称"] + [f"事项{index}" for index in range(4)]
    data = "\n".join(lines).encode()
    assert len(read_table(data, max_rows=4).rows) == 4
    assert error_of(data, max_rows=3) == "数据行数超过上限：一次最多导入 3 行，请拆分文件后分批导入。"
    assert len(read_table(data + b"\n\n,\n", max_rows=4).rows) == 4  # blank rows do not count


def test_blank_rows_are_skipped_and_numbers_stay_real() -> None:
    data = f"\r\n事项名称,实施编码\r\n\r\n{FOOD},A1\r\n,\r\n  ,\u3000\r\n{SEWAGE},A2\r\n\r\n".encode()
    table = read_table(data)
    assert table.rows == [
        TableRow(number=4, values={"事项名称": FOOD, "实施编码": "A1"}),
        TableRow(number=7, values={"事项名称": SEWAGE, "实施编码": "A2"}),
    ]


def test_quoted_multiline_field_with_crlf() -> None:
    data = (
        "事项名称,受理条件,实施编码\r\n"
        f'{FOOD},"1. 具有与经营的食品品种相适应的场所；\r\n2. 具有食品安全管理人员，""持证上岗""",A1\r\n'
        f"{SEWAGE},,A2\r\n"
    ).encode()
    table = read_table(data)
    assert table.rows == [
        TableRow(
            number=2,
            values={
                "事项名称": FOOD,
                "受理条件": '1. 具有与经营的食品品种相适应的场所；\n2. 具有食品安全管理人员，"持证上岗"',
                "实施编码": "A1",
            },
        ),
        TableRow(number=3, values={"事项名称": SEWAGE, "受理条件": "", "实施编码": "A2"}),  # Excel's row 3
    ]


def test_unclosed_quote_names_the_row_instead_of_swallowing_the_rest() -> None:
    data = f'事项名称,实施编码\n{FOOD},A1\n"{SEWAGE},A2\n其他,A3\n'.encode()
    assert error_of(data) == "第 3 行无法解析：请检查该行的双引号是否成对，单元格内容是否过长。"


def test_nul_bytes_are_refused() -> None:
    assert error_of(b"name,code\n\x00\x01,1\n") == MESSAGE_NUL


def test_table_error_carries_the_message() -> None:
    error = TableError("文件为空或没有表头行。")
    assert error.message == "文件为空或没有表头行。"
    assert str(error) == "文件为空或没有表头行。"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        ("甲", "甲"),
        (3.0, "3"),
        (-12.0, "-12"),
        (1.5, "1.5"),
        (0.1 + 0.2, "0.3"),
        (1e-05, "0.00001"),
        (13800138000.0, "13800138000"),
        (42, "42"),
        (True, "TRUE"),
        (Decimal("2.50"), "2.5"),
        (Decimal("10.00"), "10"),
        (datetime(2025, 1, 2), "2025-01-02"),
        (datetime(2025, 1, 2, 9, 30), "2025-01-02 09:30:00"),
        (date(2025, 1, 2), "2025-01-02"),
    ],
)
def test_excel_text(value: object, text: str) -> None:
    assert excel_text(value) == text


# --- writers -----------------------------------------------------------------------------------------


def test_xlsx_round_trip_keeps_values_and_row_numbers() -> None:
    rows: list[list[object]] = [
        [FOOD, "11440104MB2C91234X4442111001000", 10, 2.5],
        [None, None, None, None],
        [SEWAGE, "11440104007502419R4000117003000", 20, None],
        ["多行\n说明", "", 0, -1.75],
    ]
    data = write_xlsx(["事项名称", "实施编码", "承诺时限", "收费"], rows, sheet_title="事项清单")
    assert data.startswith(b"PK\x03\x04")
    table = read_table(data, required_columns=["事项名称", "实施编码"])
    assert table == Table(
        format="xlsx",
        encoding=None,
        header=["事项名称", "实施编码", "承诺时限", "收费"],
        rows=[
            TableRow(
                2, {"事项名称": FOOD, "实施编码": "11440104MB2C91234X4442111001000", "承诺时限": "10", "收费": "2.5"}
            ),
            TableRow(
                4, {"事项名称": SEWAGE, "实施编码": "11440104007502419R4000117003000", "承诺时限": "20", "收费": ""}
            ),
            TableRow(5, {"事项名称": "多行\n说明", "实施编码": "", "承诺时限": "0", "收费": "-1.75"}),
        ],
    )


def test_xlsx_layout_bold_frozen_header_numbers_and_title() -> None:
    data = write_xlsx(
        ["事项名称", "数量", "日期", "大整数"],
        [[FOOD, 3, date(2025, 1, 2), 12345678901234567890], ["#N/A", Decimal("1.5"), None, 123456789012345]],
        sheet_title="越秀区[2025]:事项/清单*?\\" + "长" * 40,
    )
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook.worksheets[0]
    assert sheet.title == "越秀区2025事项清单" + "长" * 20
    assert len(sheet.title) == 31
    assert sheet.freeze_panes == "A2"
    assert [cell.font.b for cell in sheet[1]] == [True, True, True, True]
    assert [cell.font.b for cell in sheet[2]] == [False, False, False, False]
    assert (sheet["B2"].value, sheet["B2"].data_type) == (3, "n")
    assert (sheet["B3"].value, sheet["B3"].data_type) == (1.5, "n")
    assert sheet["C2"].value == datetime(2025, 1, 2)
    assert sheet["C2"].is_date
    assert (sheet["D2"].value, sheet["D2"].data_type) == ("12345678901234567890", "s")  # beyond Excel's 15 digits
    assert (sheet["D3"].value, sheet["D3"].data_type) == (123456789012345, "n")
    assert (sheet["A3"].value, sheet["A3"].data_type) == ("#N/A", "s")  # text, not an error value


def test_clean_sheet_title() -> None:
    assert clean_sheet_title("a[b]c:d*e?f/g\\h") == "abcdefgh"
    assert clean_sheet_title("'引号'") == "引号"
    assert clean_sheet_title("[]:*?/\\") == "Sheet1"
    assert clean_sheet_title("事" * 40) == "事" * 31


def test_cjk_column_widths() -> None:
    assert display_width("事项ab") == 6
    assert display_width("食品经营许可（新办）") == 20
    assert display_width("“一网通办”") == 12
    assert display_width("第一行\n第二行更长一些") == 14
    assert display_width("") == 0
    data = write_xlsx(
        ["事项名称", "实施编码", "ID", "说明", "备注"],
        [[FOOD, "11440104MB2C91234X", 7, "第一行\n第二行更长一些", "长" * 40]],
    )
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCDE"}
    assert widths == {"A": 22.0, "B": 20.0, "C": 8.0, "D": 16.0, "E": 60.0}
    assert column_width([]) == 8.0


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("=1+1", "'=1+1"),
        ("+86 20 8888 8888", "'+86 20 8888 8888"),
        ("-", "'-"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("a=b", "a=b"),
        (FOOD, FOOD),
        ("", ""),
    ],
)
def test_escape_formula_and_its_undoing(text: str, escaped: str) -> None:
    assert escape_formula(text) == escaped
    assert strip_formula_guard(escaped) == text


def test_strip_formula_guard_leaves_other_apostrophes() -> None:
    assert strip_formula_guard("'事项'") == "'事项'"
    assert strip_formula_guard("'") == "'"


INJECTION_ROWS: list[list[object]] = [
    ['=HYPERLINK("http://evil.example","点击")', -5],
    ["+86 20 1234 5678", 1.0],
    ["@SUM(A1:A2)", None],
    ["\tx", "-"],
    ["普通", "a=b"],
]


def test_csv_writer_escapes_formulas_but_not_numbers() -> None:
    data = write_csv(["名称", "数"], INJECTION_ROWS)
    assert data == (
        "\ufeff名称,数\r\n"
        '"\'=HYPERLINK(""http://evil.example"",""点击"")",-5\r\n'
        "'+86 20 1234 5678,1\r\n"
        "'@SUM(A1:A2),\r\n"
        "'\tx,'-\r\n"
        "普通,a=b\r\n"
    ).encode("utf-8")
    table = read_table(data)
    assert table.encoding == "utf-8-sig"
    assert [strip_formula_guard(row.values["名称"]) for row in table.rows] == [
        '=HYPERLINK("http://evil.example","点击")',
        "+86 20 1234 5678",
        "@SUM(A1:A2)",
        "\tx",
        "普通",
    ]


def test_xlsx_writer_escapes_formulas_and_never_writes_one() -> None:
    data = write_xlsx(["名称", "数"], INJECTION_ROWS)
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    cells = [(cell.value, cell.data_type) for row in sheet.iter_rows(min_row=2) for cell in row]
    assert cells == [
        ('\'=HYPERLINK("http://evil.example","点击")', "s"),
        (-5, "n"),
        ("'+86 20 1234 5678", "s"),
        (1.0, "n"),
        ("'@SUM(A1:A2)", "s"),
        (None, "n"),
        ("'\tx", "s"),
        ("'-", "s"),
        ("普通", "s"),
        ("a=b", "s"),
    ]
    assert b"<f>" not in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")


def test_csv_writer_gb18030_and_crlf() -> None:
    data = write_csv(HEADER, [[FOOD, "A1", "越秀区市场监督管理局"], [SEWAGE, None, "多行\n单元格"]], encoding="gb18030")
    assert data == (
        f'事项名称,实施编码,实施主体\r\n{FOOD},A1,越秀区市场监督管理局\r\n{SEWAGE},,"多行\n单元格"\r\n'
    ).encode("gb18030")
    table = read_table(data)
    assert table.encoding == "gb18030"
    assert table.rows[1] == TableRow(3, {"事项名称": SEWAGE, "实施编码": "", "实施主体": "多行\n单元格"})


def test_csv_writer_renders_values_like_excel() -> None:
    data = write_csv(["a", "b", "c", "d", "e"], [[3.0, datetime(2025, 1, 2), True, Decimal("2.50")]], encoding="utf-8")
    assert data == b"a,b,c,d,e\r\n3,2025-01-02,TRUE,2.5,\r\n"


def test_writers_refuse_bad_input() -> None:
    with pytest.raises(ValueError, match="encoding"):
        write_csv(["a"], [], encoding="latin-1")
    with pytest.raises(ValueError, match="row 3"):
        write_csv(["a"], [["1"], ["1", "2"]])
    with pytest.raises(ValueError, match="row 2"):
        write_xlsx(["a"], [["1", "2"]])
    with pytest.raises(ValueError, match="time zones"):
        write_xlsx(["a"], [[datetime(2025, 1, 2, tzinfo=UTC)]])


def test_module_is_pure() -> None:
    source = Path(__file__).resolve().parents[2] / "src"
    code = "import sys, yuexiu.core.tabular; print(sorted(m for m in sys.modules if m.startswith('django')))"
    env = {**os.environ, "PYTHONPATH": str(source)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.strip() == "[]"


def test_multi_line_cells_wrap_in_excel() -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    data = write_xlsx(["申请材料"], [["申请书 | 原件\n营业执照 | 复印件"]])
    cell = load_workbook(BytesIO(data)).active["A2"]
    assert cell.alignment.wrap_text is True
