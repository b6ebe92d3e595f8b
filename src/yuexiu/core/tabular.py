"""Spreadsheet tables for imports and exports (the catalogue, the enterprise registry): read an
uploaded CSV or Excel file, write CSV and Excel files. Pure module: bytes in, plain values out, no Django import.

Reading (``read_table``) detects the format and the text encoding from the CONTENT, never from a file
name: an Excel workbook is a zip (``PK\\x03\\x04``) that openpyxl opens; everything else is CSV,
decoded as UTF-8 with BOM (``utf-8-sig``, what Excel writes for "CSV UTF-8"), plain UTF-8, or GB18030
(what Excel and WPS write for "CSV" on a Chinese Windows; GB18030 is a superset of GBK and GB2312).
Every problem the user can fix is a ``TableError`` whose ``message`` is Chinese and names the row or
the column to fix.

Row numbers are the numbers the user sees in Excel or WPS: the header is row 1 when it is on the
first line, the first data row is 2, and skipped blank rows still count. For a CSV that is also the
line number in a text editor, except after a quoted cell that itself spans several lines (Excel shows
such a record as one row; the numbers follow Excel).

Writing (``write_xlsx``, ``write_xlsx_sheets``, ``write_csv``, ``csv_lines`` for a streamed CSV)
guards against formula injection (OWASP "CSV Injection"): a text cell that starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return — also after leading spaces, and in their full-width forms,
which WPS reads as formulas too — is written with a leading apostrophe, so the spreadsheet shows text
instead of running a formula. ``strip_formula_guard`` undoes it when an exported file comes back for
import. Every file the platform hands to a person is written through these functions, never through
``csv.writer`` or ``openpyxl`` directly (``tests/test_exports.py`` enforces it).
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from yuexiu.core.text_limits import remove_invisible

XLSX_SIGNATURE = b"PK\x03\x04"
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and also password-protected .xlsx
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")  # also covers the UTF-32 little-endian BOM

CSV_ENCODINGS = ("utf-8-sig", "utf-8", "gb18030")
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Full-width ＝＋－＠ (an input method types them); WPS and Excel in a Chinese locale may read them as
# the ASCII signs when a cell is edited.
_FULL_WIDTH_TRIGGERS = ("\uff1d", "\uff0b", "\uff0d", "\uff20")

MAX_XLSX_UNCOMPRESSED = 256 * 1024 * 1024  # bytes; a zip bomb guard, far above a 20 000-row sheet
MAX_SHEET_TITLE = 31  # Excel's limit
MIN_COLUMN_WIDTH = 8.0  # Excel's default column is about 8.43 characters wide
MAX_COLUMN_WIDTH = 60.0
COLUMN_PADDING = 2.0
EXCEL_INTEGER_DIGITS = 15  # Excel keeps 15 significant digits; longer integers are written as text

_SHEET_TITLE_FORBIDDEN = str.maketrans("", "", "[]:*?/\\")
_HEADER_EDGE_JUNK = "\ufeff\u200b\u200c\u200d\u2060"  # BOM and zero-width characters pasted from web pages

MESSAGE_EMPTY = "文件为空或没有表头行。"
MESSAGE_ENCODING = "无法识别文件编码：请另存为 UTF-8 或 GB18030 编码的 CSV，或 Excel（.xlsx）文件。"
MESSAGE_UTF16 = "文件是 UTF-16 编码（如 Excel 的“Unicode 文本”）：请另存为 UTF-8 编码的 CSV，或 Excel（.xlsx）文件。"
MESSAGE_NUL = "文件含有空字符，不是可识别的文本表格：请另存为 UTF-8 编码的 CSV，或 Excel（.xlsx）文件。"
MESSAGE_XLS = (
    "不支持旧版 Excel（.xls）文件，也无法读取设有打开密码的 Excel 文件：请在 Excel 或 WPS 中另存为"
    " .xlsx 文件（不设密码）后再上传。"
)
MESSAGE_BAD_XLSX = (
    "无法读取该 Excel 文件：文件可能已损坏，或不是 .xlsx 格式（如 .docx、.ods）。请在 Excel 或 WPS 中"
    "另存为 .xlsx 文件后再上传。"
)
MESSAGE_XLSX_TOO_LARGE = "Excel 文件解压后过大，无法读取：请删除多余的工作表、图片或格式后再上传。"
MESSAGE_MARKUP = (
    "文件是网页或 XML 格式（某些系统导出的“.xls”实际是这种格式）：请在 Excel 或 WPS 中打开后，"
    "另存为 .xlsx 或 CSV 文件再上传。"
)


class TableError(Exception):
    """A file that cannot be read as a table; ``message`` is Chinese and clear for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class TableRow:
    """One data row.

    ``number``: the row number the user sees in Excel or WPS (header on row 1 → first data row is 2).
    ``values``: ``{header: cell text}`` for every header column; text stripped, line breaks as ``"\\n"``,
    missing cells ``""``, Excel numbers as text without ``".0"`` for integers (``{"序号": "3"}``).
    """

    number: int
    values: dict[str, str]


@dataclass(frozen=True)
class Table:
    """A table read from an uploaded file.

    ``format``: ``"xlsx"`` or ``"csv"``. ``encoding``: for CSV ``"utf-8-sig"``, ``"utf-8"`` or
    ``"gb18030"``; ``None`` for xlsx. ``header``: the column names in file order, stripped, unique.
    ``rows``: the non-blank data rows in file order, e.g.
    ``[TableRow(number=2, values={"事项名称": "食品经营许可（新办）", "实施编码": "1144..."})]``.
    """

    format: str
    encoding: str | None
    header: list[str]
    rows: list[TableRow]


# --- reading ----------------------------------------------------------------------------------------


def read_table(data: bytes, *, required_columns: Sequence[str] = (), max_rows: int = 20000) -> Table:
    """Read an uploaded CSV or xlsx file (format and encoding detected from ``data``).

    The header is the first non-blank row (normally row 1). Fully blank rows are skipped; blank cells
    beyond the header, and blank columns without a header name (a table starting in column B), are
    ignored. Raises ``TableError`` for an unreadable file, an empty file, a duplicate header name, a
    missing required column, more than ``max_rows`` non-blank data rows, or a row with a value beyond
    the header or under a column without a name.
    """
    if max_rows < 0:
        raise ValueError("max_rows must not be negative")
    if data.startswith(OLE_SIGNATURE):
        raise TableError(MESSAGE_XLS)
    if data.startswith(XLSX_SIGNATURE):
        return _build_table("xlsx", None, _xlsx_records(data), required_columns, max_rows)
    encoding, text = _decode_csv(data)
    return _build_table("csv", encoding, _csv_records(text), required_columns, max_rows)


def strip_formula_guard(text: str) -> str:
    """Undo the writers' formula guard: ``"'=SUM(A1)"`` → ``"=SUM(A1)"``; any other text unchanged."""
    if len(text) >= 2 and text[0] == "'" and _is_formula_like(text[1:]):
        return text[1:]
    return text


def _decode_csv(data: bytes) -> tuple[str, str]:
    """Return ``(encoding, text)`` for CSV bytes, or raise ``TableError``."""
    if data.startswith(UTF16_BOMS):
        raise TableError(MESSAGE_UTF16)
    if b"\x00" in data:
        raise TableError(MESSAGE_NUL)
    if data.startswith(UTF8_BOM):
        try:
            return "utf-8-sig", data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise TableError(MESSAGE_ENCODING) from None
    for encoding in ("utf-8", "gb18030"):
        try:
            return encoding, data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableError(MESSAGE_ENCODING)


def _csv_records(text: str) -> Generator[tuple[int, list[str]], None, None]:
    """Yield ``(row number, cells)`` for each CSV record, blank lines included (as ``[]``)."""
    head = text.lstrip(" \t\r\n\ufeff")[:200].lower()
    if head.startswith(("<?xml", "<html", "<!doctype", "<table", "<head", "<body")):
        raise TableError(MESSAGE_MARKUP)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=",", quotechar='"', strict=True)
    number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            raise TableError(f"第 {number + 1} 行无法解析：请检查该行的双引号是否成对，单元格内容是否过长。") from None
        number += 1
        yield number, cells


def _xlsx_records(data: bytes) -> Generator[tuple[int, list[str]], None, None]:
    """Yield ``(row number, cells as text)`` for each row of the first worksheet."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            uncompressed = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise TableError(MESSAGE_BAD_XLSX) from None
    if uncompressed > MAX_XLSX_UNCOMPRESSED:
        raise TableError(MESSAGE_XLSX_TOO_LARGE)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a damaged or foreign zip
        raise TableError(MESSAGE_BAD_XLSX) from None
    try:
        if not workbook.worksheets:
            raise TableError(MESSAGE_EMPTY)
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # the stored dimension is often wrong; read what is really there
        try:
            # Missing rows come back as empty tuples, so the enumeration keeps the real row numbers.
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, [excel_text(value) for value in values]
        except TableError:
            raise
        except Exception:
            raise TableError(MESSAGE_BAD_XLSX) from None
    finally:
        workbook.close()


def excel_text(value: object) -> str:
    """The text of an Excel cell value as the user reads it.

    ``None`` → ``""``; ``3.0`` → ``"3"``; ``0.1`` → ``"0.1"``; ``True`` → ``"TRUE"``;
    ``datetime(2025, 1, 2)`` → ``"2025-01-02"``; ``datetime(2025, 1, 2, 9, 30)`` → ``"2025-01-02 09:30:00"``.
    Floats keep Excel's 15 significant digits (``0.1 + 0.2`` → ``"0.3"``).
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, datetime):
        if value.time() == time(0, 0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat(timespec="seconds")
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def _float_text(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    rounded = float(format(value, f".{EXCEL_INTEGER_DIGITS}g"))
    if rounded.is_integer():
        return str(int(rounded))
    return _decimal_text(Decimal(repr(rounded)))


def _decimal_text(value: Decimal) -> str:
    if not value.is_finite():
        return str(value)
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def _clean_value(text: str) -> str:
    """Cell text as stored: line breaks as ``"\n"``, edges stripped, invisible format and control
    characters removed (``text_limits.remove_invisible``, as for every form value)."""
    return remove_invisible(text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def _clean_header(text: str) -> str:
    cleaned = _clean_value(text)
    while cleaned and (cleaned[0] in _HEADER_EDGE_JUNK or cleaned[-1] in _HEADER_EDGE_JUNK):
        cleaned = cleaned.strip(_HEADER_EDGE_JUNK).strip()
    return cleaned


def _build_table(
    table_format: str,
    encoding: str | None,
    records: Generator[tuple[int, list[str]], None, None],
    required_columns: Sequence[str],
    max_rows: int,
) -> Table:
    with contextlib.closing(records):  # closes the workbook even when a row is refused
        header, rows = _collect_rows(records, required_columns, max_rows)
    return Table(format=table_format, encoding=encoding, header=header, rows=rows)


def _collect_rows(
    records: Iterable[tuple[int, list[str]]], required_columns: Sequence[str], max_rows: int
) -> tuple[list[str], list[TableRow]]:
    """Return ``(header, rows)``; the header is the first non-blank record."""
    header_cells: list[str] | None = None
    rows: list[TableRow] = []
    for number, cells in records:
        if header_cells is None:
            cleaned = [_clean_header(cell) for cell in cells]
            if any(cleaned):
                header_cells = _check_header(cleaned, required_columns)
            continue  # blank lines before the header are skipped too
        values = [_clean_value(cell) for cell in cells]
        if not any(values):
            continue
        if any(values[len(header_cells) :]):
            raise TableError(f"第 {number} 行的列数多于表头。")
        for index, (name, value) in enumerate(zip(header_cells, values, strict=False)):
            if value and not name:
                column = get_column_letter(index + 1)
                raise TableError(f"第 {number} 行的 {column} 列有内容，但表头中该列没有列名：请填写列名，或删除该列。")
        if len(rows) == max_rows:
            raise TableError(f"数据行数超过上限：一次最多导入 {max_rows} 行，请拆分文件后分批导入。")
        values = values[: len(header_cells)] + [""] * (len(header_cells) - len(values))
        row_values = {name: value for name, value in zip(header_cells, values, strict=True) if name}
        rows.append(TableRow(number=number, values=row_values))
    if header_cells is None:
        raise TableError(MESSAGE_EMPTY)
    return [name for name in header_cells if name], rows


def _check_header(cells: list[str], required_columns: Sequence[str]) -> list[str]:
    """Check the header names and return the header cells without trailing empty ones.

    An empty header cell inside the header is kept as ``""``: its column is ignored while it stays empty
    (a table that starts in column B), and a row with a value there is refused.
    """
    while cells and not cells[-1]:
        cells.pop()
    names = [name for name in cells if name]
    duplicates = [name for name, count in Counter(names).items() if count > 1]
    if duplicates:
        raise TableError(f"表头中有重复的列名：{'、'.join(duplicates)}。")
    present = set(names)
    missing = [name for name in dict.fromkeys(required_columns) if name not in present]
    if missing:
        raise TableError(f"缺少必填列：{'、'.join(missing)}")
    return cells


# --- writing ----------------------------------------------------------------------------------------


def escape_formula(text: str) -> str:
    """Prefix an apostrophe to text that a spreadsheet would run as a formula: ``"=1+1"`` → ``"'=1+1"``,
    ``"  =HYPERLINK(…)"`` → ``"'  =HYPERLINK(…)"``, ``"－1"`` → ``"'－1"``; any other text unchanged.

    The one formula guard of every export (CSV and Excel): the writers below call it for each text
    cell; code that writes a file some other way must call it too."""
    if _is_formula_like(text):
        return "'" + text
    return text


def _is_formula_like(text: str) -> bool:
    if text.startswith(FORMULA_TRIGGERS):
        return True
    stripped = text.lstrip(" \u3000")
    return stripped.startswith(FORMULA_TRIGGERS + _FULL_WIDTH_TRIGGERS)


def display_width(text: str) -> int:
    """Width in Excel character units of the longest line: ``"事项ab"`` → 6.

    CJK characters count 2: East Asian wide and full-width characters, and the ambiguous ones (“”、—、
    ①、·), which the Chinese fonts of Excel and WPS draw full width.
    """
    return max(
        (sum(2 if unicodedata.east_asian_width(char) in "WFA" else 1 for char in line) for line in text.split("\n")),
        default=0,
    )


def column_width(texts: Iterable[str]) -> float:
    """The column width for these cell texts: widest text + padding, within 8–60."""
    widest = max((display_width(text) for text in texts), default=0)
    return min(max(widest + COLUMN_PADDING, MIN_COLUMN_WIDTH), MAX_COLUMN_WIDTH)


def clean_sheet_title(title: str) -> str:
    """An Excel-safe sheet title: without ``[]:*?/\\``, no edge apostrophes, at most 31 characters."""
    cleaned = title.translate(_SHEET_TITLE_FORBIDDEN).strip().strip("'").strip()
    cleaned = cleaned[:MAX_SHEET_TITLE].strip().strip("'").strip()
    return cleaned or "Sheet1"


def write_xlsx(header: Sequence[str], rows: Iterable[Sequence[object]], *, sheet_title: str = "Sheet1") -> bytes:
    """An xlsx workbook with one sheet: bold, frozen header row; data rows below; fitted column widths.

    Text cells are formula-guarded (``escape_formula``) and always stored as text; ``int``, ``float``
    and ``Decimal`` are numbers (integers beyond 15 digits as text, which Excel could not hold exactly);
    ``bool`` is a boolean; naive ``date``/``datetime`` are dates; ``None`` is an empty cell; any other
    value is written as its ``str()``. Raises ``ValueError`` for a row longer than the header or a
    timezone-aware datetime (convert to local time first).
    """
    return write_xlsx_sheets([(sheet_title, header, rows)])


def write_xlsx_sheets(sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence[object]]]]) -> bytes:
    """An xlsx workbook with one sheet per ``(title, header, rows)``, in order, each written as
    ``write_xlsx`` writes its one sheet (formula-guarded text, bold frozen header, fitted widths).
    Raises ``ValueError`` as ``write_xlsx`` does, or for two sheets whose cleaned titles are equal."""
    workbook = Workbook(write_only=True)
    titles: set[str] = set()
    for sheet_title, header, rows in sheets:
        title = clean_sheet_title(sheet_title)
        if title in titles:
            raise ValueError(f"two sheets are titled {title!r}")
        titles.add(title)
        width = len(header)
        header_values = [_xlsx_value(name) for name in header]
        body = [_xlsx_row(row, width, number) for number, row in enumerate(rows, start=2)]
        sheet = workbook.create_sheet(title=title)
        for index in range(width):
            texts = [excel_text(header_values[index])]
            texts.extend(excel_text(row[index]) for row in body)
            sheet.column_dimensions[get_column_letter(index + 1)].width = column_width(texts)
        sheet.freeze_panes = "A2"
        bold = Font(bold=True)
        sheet.append([_xlsx_cell(sheet, value, bold) for value in header_values])
        for row in body:
            sheet.append([_xlsx_cell(sheet, value, None) for value in row])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def _xlsx_row(row: Sequence[object], width: int, number: int) -> list[object]:
    if len(row) > width:
        raise ValueError(f"row {number} has {len(row)} cells, the header has {width}")
    values = [_xlsx_value(value) for value in row]
    values.extend([None] * (width - len(values)))
    return values


def _xlsx_value(value: object) -> object:
    """The value to store: ``None``, ``bool``, a number, a naive date/datetime/time, or guarded text."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if len(str(abs(value))) <= EXCEL_INTEGER_DIGITS else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return value if value.is_finite() else str(value)
    if isinstance(value, datetime | time):
        if value.tzinfo is not None:
            raise ValueError("Excel has no time zones: convert aware datetimes to naive local time first")
        return value
    if isinstance(value, date):
        return value
    return ILLEGAL_CHARACTERS_RE.sub("", escape_formula(str(value)))


_WRAPPED = Alignment(wrap_text=True, vertical="top")


def _xlsx_cell(sheet: object, value: object, font: Font | None) -> WriteOnlyCell | None:
    if value is None and font is None:
        return None
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula or an error value such as "#N/A"
        if "\n" in value:  # one entry per line (materials, legal bases): show the lines
            cell.alignment = _WRAPPED
    if font is not None:
        cell.font = font
    return cell


def write_csv(header: Sequence[str], rows: Iterable[Sequence[object]], *, encoding: str = "utf-8-sig") -> bytes:
    """CSV bytes in ``encoding`` (``"utf-8-sig"``, the default, for Excel; ``"utf-8"``; ``"gb18030"``),
    comma-separated, CRLF line endings, quoted where needed.

    Cells are written as ``excel_text`` renders them (``3.0`` → ``"3"``, ``None`` → ``""``,
    ``datetime(2025, 1, 2)`` → ``"2025-01-02"``); text cells are formula-guarded (``escape_formula``),
    numbers are not (``-5`` stays a number). Raises ``ValueError`` for another encoding or a row longer
    than the header.
    """
    if encoding not in CSV_ENCODINGS:
        raise ValueError(f"encoding must be one of {', '.join(CSV_ENCODINGS)}, not {encoding!r}")
    return "".join(csv_lines(header, rows)).encode(encoding)


class _Line:
    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]], *, bom: bool = False) -> Iterator[str]:
    """The CSV ``write_csv`` writes, one line (record) at a time, for a streamed response: the header
    line first (after ``"\ufeff"`` when ``bom``, so that Excel reads UTF-8), then one line per row,
    each ending in CRLF, cells rendered and formula-guarded as ``write_csv`` does. Raises
    ``ValueError`` for a row longer than the header (when that row is reached)."""
    width = len(header)
    writer = csv.writer(_Line(), lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    line: str = writer.writerow([_csv_text(name) for name in header])
    yield ("\ufeff" + line) if bom else line
    for number, row in enumerate(rows, start=2):
        if len(row) > width:
            raise ValueError(f"row {number} has {len(row)} cells, the header has {width}")
        cells = [_csv_text(value) for value in row]
        cells.extend([""] * (width - len(cells)))
        yield writer.writerow(cells)


def _csv_text(value: object) -> str:
    if value is None or isinstance(value, bool | int | float | Decimal | date | time | timedelta):
        return excel_text(value)
    return escape_formula(str(value))
