"""Reading the first worksheet of an XLSX workbook with the standard library alone.

`first_sheet_rows(source)` opens the workbook (a path or a binary file), finds its first
worksheet through workbook.xml and its relationships, and yields the sheet's rows as tuples of
Python values, as openpyxl's `iter_rows(values_only=True)` gives them: text (shared, inline and
rich-text strings), int or float, bool, `datetime` for a number in a date format (`time` for a
time of day alone, `timedelta` for an elapsed-time format such as [h]:mm), None for an empty cell.
Formulas give their cached value. Row n of the sheet is the n-th tuple (missing rows come as
empty rows) and column n its n-th value (missing cells come as None); rows are padded to the
sheet's declared width, but a cell past it is never dropped.

The sheet and the shared strings are parsed as they stream out of the zip (iterparse; each row,
each string and the elements outside the rows dropped once read), so memory holds the shared
strings and one row, not the sheet. Time and memory are bounded whatever the file says, by the
limits below: before any part is parsed, from what the zip declares (the number of parts, their
compression method, their unpacked sizes and ratios), so that a zip bomb is refused at once, not
unpacked (zipfile stops a part at its declared size and checks its CRC: no part unpacks to more
than it declares); then, as the XML is read, the rows, the cells given, the elements held at once
and the shared strings. Nothing is allocated from a count the file declares: the sheet's
dimension only pads rows, up to 1,024 cells; the shared strings' count is not read. Anything that
is not a readable workbook (not a zip, a missing part, malformed XML, a bad cell) or is beyond the
limits raises `XlsxError`, when the workbook is opened or while its rows are read.

Measured against python-calamine 0.9.1 on 2026-12-06 (the 100,000-row export, 2-vCPU VM, medians
of 3 rounds): read_table took 6.1 to 6.6 s with this reader, 2.2 to 2.6 s with calamine behind
an adapter and checks of ours, about 2.5 times faster. We keep this reader, for two reasons.
calamine reads an error cell (#N/A) and an empty string as None, so a bad date cell would no
longer be reported to staff, and passing these edge cases was the condition for switching. And
calamine lays a sheet out as a dense grid from the file's own references and aborts the whole
process when an allocation fails (a 1 KB sheet asks for 52 GB): it needed some 300 lines of
regular-expression scans of the XML before it, which also refused some valid files, where this
streaming reader is bounded by itself. To measure again: `.venv/bin/pip install python-calamine`
(no dependency of ours), then `.venv/bin/python bench/xlsx_read.py`.
"""

from __future__ import annotations

import datetime as dt
import os
import posixpath
import re
import zipfile
import zlib
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import IO, Literal
from xml.etree import ElementTree as ET

Value = str | int | float | bool | dt.datetime | dt.date | dt.time | dt.timedelta | None

_MAIN_NS = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",  # "Strict Open XML" workbooks
)
_RELS_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_EPOCH_1900 = dt.datetime(1899, 12, 30)  # serial 1 is 1900-01-01, counting Excel's 29/02/1900
_EPOCH_1904 = dt.datetime(1904, 1, 1)
_BUILTIN_DATE_FORMATS = frozenset((*range(14, 23), 45, 47))  # m/d/yy, h:mm, mm:ss...
_BUILTIN_ELAPSED_FORMATS = frozenset((46,))  # [h]:mm:ss
_MAX_PADDED_WIDTH = 1024  # a declared width beyond this is taken as bogus: rows are not padded
_MAX_COLUMN = 16384  # XFD

# The limits of the package, checked from what the zip declares before anything is unpacked. The
# 100,000-row export (bench/xlsx_read.py) is 7 MB, 9 parts, 65 MB unpacked (48 MB as Excel saves
# it, with shared strings), its parts packed 5 to 10 times.
MAX_PARTS = 1_000  # Excel writes about ten parts for one sheet; zipfile makes an object per part
# The zip's central directory, read whole by zipfile whatever number of parts it declares: a
# thousand parts with long names and extra fields.
MAX_DIRECTORY_BYTES = MAX_PARTS * 1_024
MAX_UNPACKED_BYTES = 250_000_000  # about 4 times the 100,000-row export; read in ~25 s
MAX_RATIO = 200  # deflate reaches 1,032:1; a zip bomb is near that, a real part 5 to 20:1
RATIO_FLOOR = 1_000_000  # a part smaller than this unpacked is not worth a ratio check
_PACKED_AS_EXCEL_DOES = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)

# The limits of what the parts' XML makes us hold, checked as it is read: within the limits above,
# a few hundred KB of XML that packs well would otherwise take gigabytes (a 1 KB sheet whose
# second row is numbered 99999999999 would be read as 10^11 rows).
MAX_ROWS = 1_048_576  # Excel's last row
# Cells given, padding and empty rows counted (one each; 8 bytes apiece in read_table's list):
# the 100,000-row export has 1.1 million, the largest read_table takes (50 MB) about 8 million.
# Without it one cell at XFD in each row of a 300 KB sheet makes 2,000 rows of 16,384 cells.
MAX_CELLS = 20_000_000
# XML elements held at once: the elements open, the row being read (16,384 cells of a value:
# 33,000 elements), one table of styles.xml or one shared string, a whole workbook.xml or .rels.
# Every other element leaves the tree once read. 100,000 elements take 8 to 45 MB.
MAX_HELD_ELEMENTS = 100_000
# Shared strings, 50 bytes or more each in memory: the 100,000-row export has 200,000 (a string
# no cell could use is in no export).
MAX_SHARED_STRINGS = 5_000_000

# A number format is a date when, in its first section and outside "literals", [brackets]
# (colours, locales) and \escaped or _padding characters, it has a d m y h or s.
_FORMAT_NOISE = re.compile(r'"[^"]*"|\[(?!h+\]|m+\]|s+\])[^\]]*\]|[\\_*].', re.IGNORECASE)
_DATE_LETTER = re.compile(r"[dmyhs]", re.IGNORECASE)
_ELAPSED = re.compile(r"\[(h+|m+|s+)\]", re.IGNORECASE)
_ESCAPED_CHAR = re.compile(r"_x([0-9A-Fa-f]{4})_")  # how OOXML writes control characters


# What reading a damaged package or part raises, besides ET.ParseError (reported with its part).
_UNREADABLE = (
    ValueError,  # a bad number or reference in the XML
    IndexError,
    OverflowError,
    zipfile.BadZipFile,  # a bad CRC, a truncated member
    zlib.error,
    EOFError,
    OSError,
    NotImplementedError,  # a compression method zipfile does not have
    RuntimeError,  # an encrypted member
)


class XlsxError(Exception):
    """The file is not a readable XLSX workbook (not a zip, a part missing, malformed XML)."""


def first_sheet_rows(source: str | os.PathLike[str] | IO[bytes]) -> Iterator[tuple[Value, ...]]:
    """The rows of the workbook's first worksheet. Raises `XlsxError` when the workbook cannot
    be opened or is beyond the limits (here), or a row cannot be read (while iterating)."""
    try:
        _check_directory(source)
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise XlsxError(f"not an XLSX file (not a zip archive: {exc})") from exc
    except OSError as exc:
        raise XlsxError(f"cannot open the file: {exc}") from exc
    try:
        _check_parts(archive)
        package = _Package(archive)
        sheet, strings, styles, epoch = package.first_sheet()
    except BaseException as exc:
        archive.close()
        if isinstance(exc, _UNREADABLE) and not isinstance(exc, XlsxError):
            raise XlsxError(f"the workbook cannot be read: {exc}") from exc
        raise
    return _rows(package, sheet, strings, styles, epoch)


# --- the zip: what it declares, checked before anything is unpacked -----------------------------


def _check_directory(source: str | os.PathLike[str] | IO[bytes]) -> None:
    """Raise `XlsxError` when the zip's end record declares more than MAX_PARTS parts or a
    central directory larger than MAX_DIRECTORY_BYTES (zipfile would read it all, and make an
    object of each part, before we could count them). Without an end record, zipfile says the
    file is not a zip."""
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as stream:
            tail = _tail(stream)
    else:
        tail = _tail(source)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return
    parts = int.from_bytes(tail[at + 10 : at + 12], "little")
    directory = int.from_bytes(tail[at + 12 : at + 16], "little")
    if parts > MAX_PARTS:
        raise XlsxError(f"the archive has {parts:,} parts, more than the {MAX_PARTS:,} we read")
    if directory > MAX_DIRECTORY_BYTES:
        raise XlsxError(
            f"the archive's directory takes {directory:,} bytes, more than the"
            f" {MAX_DIRECTORY_BYTES:,} we read"
        )


def _tail(stream: IO[bytes]) -> bytes:
    """The end of the file that holds the zip's end record: 22 bytes and a comment of up to
    64 KB."""
    size = stream.seek(0, os.SEEK_END)
    stream.seek(max(0, size - 22 - 0xFFFF))
    return stream.read()


def _check_parts(archive: zipfile.ZipFile) -> None:
    """Raise `XlsxError` unless every part is packed as Excel packs them, and what the parts
    declare they unpack to is within MAX_RATIO each and MAX_UNPACKED_BYTES in all."""
    infos = archive.infolist()
    if len(infos) > MAX_PARTS:  # more than its end record said
        raise XlsxError(
            f"the archive has {len(infos):,} parts, more than the {MAX_PARTS:,} we read"
        )
    unpacked = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise XlsxError(f"{info.filename} is encrypted")
        if info.compress_type not in _PACKED_AS_EXCEL_DOES:
            raise XlsxError(
                f"{info.filename} is packed with method {info.compress_type},"
                " which Excel does not use"
            )
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * info.compress_size:
            ratio = info.file_size / max(info.compress_size, 1)
            raise XlsxError(
                f"{info.filename} would unpack to {ratio:,.0f} times its size"
                f" ({info.file_size / 1e6:,.0f} MB): a zip bomb, not an export"
            )
        unpacked += info.file_size
    if unpacked > MAX_UNPACKED_BYTES:
        raise XlsxError(
            f"the workbook would unpack to {unpacked / 1e6:,.0f} MB, more than the"
            f" {MAX_UNPACKED_BYTES / 1e6:,.0f} MB we read"
        )


# --- the package: parts and relationships -------------------------------------------------------


class _Package:
    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.names = {name.lower(): name for name in archive.namelist()}

    def first_sheet(self) -> tuple[str, list[str], dict[str, bool], dt.datetime]:
        """The first worksheet's part, the shared strings, the date styles and the epoch."""
        workbook = next(
            (t for kind, t in self.relationships("").values() if kind == "officeDocument"),
            "xl/workbook.xml",
        )
        root = self.xml(workbook)
        ns = root.tag.partition("}")[0] + "}"
        if ns[1:-1] not in _MAIN_NS:
            raise XlsxError(f"{workbook} is not a SpreadsheetML workbook")
        props = root.find(f"{ns}workbookPr")
        date1904 = props is not None and props.get("date1904", "").lower() in ("1", "true")
        rels = self.relationships(workbook)
        sheet = None
        for element in root.iterfind(f"{ns}sheets/{ns}sheet"):
            rel_id = next((v for k, v in element.attrib.items() if k.endswith("}id")), None)
            kind, target = rels.get(rel_id or "", ("", ""))
            if kind == "worksheet":  # not a chartsheet or a dialog sheet
                sheet = target
                break
        if sheet is None:
            raise XlsxError("the workbook has no worksheet")
        self.name(sheet)  # missing: say so now, not at the first row
        parts = {kind: target for kind, target in rels.values()}
        strings = (
            self.shared_strings(parts["sharedStrings"], ns) if "sharedStrings" in parts else []
        )
        styles = self.date_styles(parts["styles"], ns) if "styles" in parts else {}
        return sheet, strings, styles, _EPOCH_1904 if date1904 else _EPOCH_1900

    def name(self, part: str) -> str:
        """The part's name in the zip (part names are not case-sensitive)."""
        name = self.names.get(part.lower())
        if name is None:
            raise XlsxError(f"the workbook has no part {part}")
        return name

    def open(self, part: str) -> IO[bytes]:
        return self.archive.open(self.name(part))

    def xml(self, part: str) -> ET.Element:
        """The part's tree, of at most MAX_HELD_ELEMENTS elements."""
        root = None
        with self.open(part) as stream:
            for held, (_, element) in enumerate(_iterparse(stream, part, ("start",)), 1):
                if held > MAX_HELD_ELEMENTS:
                    raise XlsxError(_too_many_elements(part))
                if root is None:
                    root = element
        assert root is not None  # iterparse raises on a part without one
        return root

    def relationships(self, part: str) -> dict[str, tuple[str, str]]:
        """A part's relationships: id -> (type, as its last word; the target's part name)."""
        folder, name = posixpath.split(part)
        rels_part = posixpath.join(folder, "_rels", f"{name}.rels")
        if rels_part.lower() not in self.names:
            return {}
        rels = {}
        for rel in self.xml(rels_part).iterfind(f"{_RELS_NS}Relationship"):
            target = rel.get("Target", "")
            if rel.get("TargetMode") == "External" or not target:
                continue
            if target.startswith("/"):
                target = target.lstrip("/")
            else:
                target = posixpath.normpath(posixpath.join(folder, target))
            kind = rel.get("Type", "").rpartition("/")[2]
            rels[rel.get("Id", "")] = (kind, target)
        return rels

    def shared_strings(self, part: str, ns: str) -> list[str]:
        si, t, r = f"{ns}si", f"{ns}t", f"{ns}r"
        strings: list[str] = []
        append = strings.append
        held = mark = 0  # the elements in the tree: the root, the string being read
        with self.open(part) as stream:
            root = None
            for event, element in _iterparse(stream, part, ("start", "end")):
                if event == "start":
                    held += 1
                    if held > MAX_HELD_ELEMENTS:
                        raise XlsxError(_too_many_elements(part))
                    if root is None:
                        root = element
                    elif element.tag == si:
                        mark = held - 1
                elif element.tag == si and root is not None:
                    append(_text(element, t, r))
                    if len(strings) > MAX_SHARED_STRINGS:
                        raise XlsxError(
                            f"{part} has more than the {MAX_SHARED_STRINGS:,} strings we read"
                        )
                    try:  # the string read leaves the tree: keep the text, not the elements
                        root.remove(element)
                        held = mark
                    except ValueError:  # a string out of its place: it stays, empty
                        element.clear()
                        held = mark + 1
        return strings

    def date_styles(self, part: str, ns: str) -> dict[str, bool]:
        """The cell styles (xf index, as the `s` of a cell) that show a number as a date or time:
        True for an elapsed time ([h]:mm), False for a date or a time of day."""
        num_fmts, num_fmt, cell_xfs, xf = (
            f"{ns}{tag}" for tag in ("numFmts", "numFmt", "cellXfs", "xf")
        )
        custom: dict[int, str] = {}
        formats: list[int] = []  # each cell style's number format
        with self.open(part) as stream:
            for element, parent in _stream(stream, part, 2, (num_fmts, cell_xfs)):
                if element.tag == num_fmt and parent.tag == num_fmts:
                    custom[int(element.get("numFmtId", "-1"))] = element.get("formatCode", "")
                elif element.tag == xf and parent.tag == cell_xfs:
                    formats.append(int(element.get("numFmtId", "0")))
                    if len(formats) > MAX_HELD_ELEMENTS:  # Excel allows 64,000
                        raise XlsxError(f"{part} has more than {MAX_HELD_ELEMENTS:,} cell styles")
        styles: dict[str, bool] = {}
        for i, fmt_id in enumerate(formats):
            if fmt_id in custom:
                kind = _format_kind(custom[fmt_id])
            elif fmt_id in _BUILTIN_DATE_FORMATS or fmt_id in _BUILTIN_ELAPSED_FORMATS:
                kind = fmt_id in _BUILTIN_ELAPSED_FORMATS
            else:
                kind = None
            if kind is not None:
                styles[str(i)] = kind
        return styles


def _iterparse(
    stream: IO[bytes], part: str, events: Sequence[Literal["start", "end"]]
) -> Iterator[tuple[str, ET.Element]]:
    """ET.iterparse, its ParseError an `XlsxError` that names the part."""
    try:
        yield from ET.iterparse(stream, events)
    except ET.ParseError as exc:
        raise XlsxError(f"malformed XML in {part}: {exc}") from exc


def _stream(
    stream: IO[bytes], part: str, depth: int, parents: Collection[str]
) -> Iterator[tuple[ET.Element, ET.Element]]:
    """Each element of the part whose parent's tag is one of `parents`, and that parent, as the
    element ends (with its children). Once read, an element at `depth` or less (the root's
    children at 1) leaves the tree, so that the tree holds the elements open and one such
    element's children; `XlsxError` past MAX_HELD_ELEMENTS held at once."""
    path: list[ET.Element] = []  # the elements open, the root first
    marks: list[int] = []  # how many were held before each open element started
    held = 0
    try:
        for event, element in ET.iterparse(stream, ("start", "end")):
            if event == "start":
                marks.append(held)
                held += 1
                if held > MAX_HELD_ELEMENTS:
                    raise XlsxError(_too_many_elements(part))
                path.append(element)
                continue
            path.pop()
            mark = marks.pop()
            if not path:
                continue
            parent = path[-1]
            if parent.tag in parents:
                yield element, parent
            if len(path) <= depth:
                del parent[:]  # this element: its elder siblings have left already
                held = mark
    except ET.ParseError as exc:
        raise XlsxError(f"malformed XML in {part}: {exc}") from exc


def _too_many_elements(part: str) -> str:
    return f"{part} has more than the {MAX_HELD_ELEMENTS:,} XML elements at once we read"


def _format_kind(code: str) -> bool | None:
    """None for a number format that is not a date; True for an elapsed time, else False."""
    first = code.split(";", 1)[0]
    if not _DATE_LETTER.search(_FORMAT_NOISE.sub("", first)):
        return None
    return _ELAPSED.search(first) is not None


def _text(element: ET.Element, t: str, r: str) -> str:
    """The text of a string item (<si> or <is>): its <t>, or its rich-text runs' <t> joined;
    phonetic runs (<rPh>) left out."""
    if len(element) == 1 and element[0].tag == t:
        text = element[0].text or ""
    else:
        parts = []
        for child in element:
            if child.tag == t:
                parts.append(child.text or "")
            elif child.tag == r:
                parts.append(child.findtext(t) or "")
        text = "".join(parts)
    if "_x" in text:
        text = _ESCAPED_CHAR.sub(_unescape, text)
    return text


def _unescape(match: re.Match[str]) -> str:
    return chr(int(match.group(1), 16))


# --- the sheet -----------------------------------------------------------------------------------


def _rows(
    package: _Package,
    part: str,
    strings: list[str],
    styles: Mapping[str, bool],
    epoch: dt.datetime,
) -> Iterator[tuple[Value, ...]]:
    try:
        with package.archive, package.open(part) as stream:
            yield from _parse_sheet(stream, part, strings, styles, epoch)
    except XlsxError:
        raise
    except ET.ParseError as exc:
        raise XlsxError(f"malformed XML in {part}: {exc}") from exc
    except _UNREADABLE as exc:
        raise XlsxError(f"{part} cannot be read: {exc}") from exc


def _parse_sheet(
    stream: IO[bytes],
    part: str,
    strings: list[str],
    styles: Mapping[str, bool],
    epoch: dt.datetime,
) -> Iterator[tuple[Value, ...]]:
    ns = row_tag = data_tag = dimension_tag = ""
    width = 0
    next_row = 1
    root: ET.Element | None = None
    sheet_data: ET.Element | None = None
    in_data = False  # between <sheetData> and </sheetData>: rows, and their cells
    # The elements in the tree (MAX_HELD_ELEMENTS): those open, <sheetData>'s, the row being read.
    # Each read part of the tree leaves it, and `held` goes back to what it was before that part
    # began: `row_held` for a row, `marks` for the elements outside <sheetData> (few).
    held = row_held = 0
    outside: list[ET.Element] = []  # the elements open outside <sheetData>'s, the root first
    marks: list[int] = []
    given = 0  # cells given so far, an empty row one (MAX_CELLS)
    convert = _serial_converter(epoch)
    for event, element in ET.iterparse(stream, ("start", "end")):
        if event == "end":
            if element.tag == row_tag:
                ref = element.get("r")
                number = int(ref) if ref else next_row
                if number < next_row:
                    raise XlsxError(f"row {number} comes after row {next_row - 1}")
                if number > MAX_ROWS:
                    raise XlsxError(f"row {number:,} is past Excel's last row, {MAX_ROWS:,}")
                cells = _row_values(element, number, ns, strings, styles, convert)
                if len(cells) < width:
                    cells.extend([None] * (width - len(cells)))
                given += number - next_row + (len(cells) or 1)
                if given > MAX_CELLS:
                    raise XlsxError(f"the sheet has more than the {MAX_CELLS:,} cells we read")
                if number != next_row:
                    empty = (None,) * width
                    for _ in range(next_row, number):
                        yield empty
                next_row = number + 1
                yield tuple(cells)
                # The row read leaves the tree (iterparse may have parsed the next ones already).
                if _remove(sheet_data if in_data else root, element):
                    held = row_held
                else:  # a row out of its place: it stays, empty
                    element.clear()
                    held = row_held + 1
            elif in_data:  # a cell and its parts, read with their row
                if sheet_data is not None and element is sheet_data:
                    in_data = False
                    held = _leave(sheet_data, outside, marks, held)
            elif element is not root:
                if element.tag == dimension_tag:
                    last = element.get("ref", "").rpartition(":")[2].rstrip("0123456789")
                    try:
                        declared = _column(last)
                    except ValueError:
                        declared = 0
                    width = declared if declared <= _MAX_PADDED_WIDTH else 0
                held = _leave(element, outside, marks, held)
        else:
            held += 1
            if held > MAX_HELD_ELEMENTS:
                raise XlsxError(_too_many_elements(part))
            if element.tag == row_tag:
                row_held = held - 1
            elif not in_data:
                outside.append(element)
                marks.append(held - 1)
                if element.tag == data_tag:
                    sheet_data, in_data = element, True
                elif root is None:  # the namespace of the sheet's tags
                    root = element
                    ns = element.tag.partition("}")[0] + "}"
                    row_tag, data_tag = f"{ns}row", f"{ns}sheetData"
                    dimension_tag = f"{ns}dimension"


def _leave(element: ET.Element, outside: list[ET.Element], marks: list[int], held: int) -> int:
    """An element outside the rows has been read: the tree's count of elements after it. The
    root's children (the dimension, the columns, <sheetData> once read...) and theirs (each
    hyperlink, merged range...) leave the tree, their elements with them; any other stays until
    its ancestor that is one does."""
    outside.pop()
    mark = marks.pop()
    if len(outside) in (1, 2) and _remove(outside[-1], element):
        return mark
    return held


def _remove(parent: ET.Element | None, element: ET.Element) -> bool:
    """Take `element` out of `parent`'s children; False when it is not one of them."""
    if parent is None:
        return False
    try:
        parent.remove(element)  # one of the first: those before it have gone already
    except ValueError:
        return False
    return True


def _row_values(
    row: ET.Element,
    number: int,
    ns: str,
    strings: list[str],
    styles: Mapping[str, bool],
    convert: Callable[[float, bool], Value],
) -> list[Value]:
    v_tag, is_tag, t_tag, r_tag = f"{ns}v", f"{ns}is", f"{ns}t", f"{ns}r"
    cells: list[Value] = []
    column = 0
    for cell in row:
        ref = cell.get("r")
        column = _column(ref.rstrip("0123456789")) if ref else column + 1
        kind = cell.get("t")
        value: Value
        try:
            if kind == "inlineStr":
                item = cell.find(is_tag)
                if item is None:
                    value = None
                elif len(item) == 1 and item[0].tag == t_tag and "_x" not in (item[0].text or ""):
                    value = item[0].text or ""
                else:
                    value = _text(item, t_tag, r_tag)
            elif not (text := cell.findtext(v_tag)):
                value = None
            elif kind == "s":
                index = int(text)
                if not 0 <= index < len(strings):
                    raise IndexError(f"no shared string {index}")
                value = strings[index]
            elif kind is None or kind == "n":
                value = float(text) if "." in text or "e" in text or "E" in text else int(text)
                style = cell.get("s")
                if style is not None and style in styles:
                    value = convert(value, styles[style])
            elif kind == "b":
                value = text.strip().lower() in ("1", "true")
            elif kind == "d":
                value = _iso_date(text)
            else:  # "str" (a formula's text), "e" (an error such as #N/A)
                value = text
        except (ValueError, IndexError) as exc:
            raise XlsxError(f"cell {_letters(column)}{number}: {exc}") from exc
        count = len(cells)
        if column == count + 1:
            cells.append(value)
        elif column > count:
            cells.extend([None] * (column - count - 1))
            cells.append(value)
        else:  # cells out of order: the last one of a column wins
            cells[column - 1] = value
    return cells


@lru_cache(maxsize=1024)
def _column(letters: str) -> int:
    """1 for A, 27 for AA; ValueError when it is not a column."""
    index = 0
    for letter in letters.upper():
        if not "A" <= letter <= "Z":
            raise ValueError(f"not a cell reference: {letters!r}")
        index = index * 26 + ord(letter) - 64
    if not 1 <= index <= _MAX_COLUMN:
        raise ValueError(f"not a cell reference: {letters!r}")
    return index


def _letters(column: int) -> str:
    """A for 1, AA for 27."""
    letters = ""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _serial_converter(epoch: dt.datetime) -> Callable[[float, bool], Value]:
    """A number in a date format as openpyxl reads it: a `datetime` (to the millisecond), a
    `time` for a serial below 1, a `timedelta` for an elapsed-time format; the number itself
    when it is no date at all (out of range)."""
    cache: dict[tuple[float, bool], Value] = {}
    leap_bug = epoch == _EPOCH_1900

    def convert(serial: float, elapsed: bool) -> Value:
        key = (serial, elapsed)
        hit = cache.get(key)
        if hit is not None:
            return hit
        try:
            value = _from_serial(serial, epoch, leap_bug, elapsed)
        except (OverflowError, ValueError):
            return serial
        if len(cache) >= 4096:
            cache.clear()
        cache[key] = value
        return value

    return convert


def _from_serial(serial: float, epoch: dt.datetime, leap_bug: bool, elapsed: bool) -> Value:
    if elapsed:
        span = dt.timedelta(days=serial)
        if span.microseconds:
            span = dt.timedelta(
                seconds=span.total_seconds() // 1, microseconds=round(span.microseconds, -3)
            )
        return span
    day, fraction = divmod(serial, 1)
    time_of_day = dt.timedelta(milliseconds=round(fraction * 86_400_000))
    if 0 <= serial < 1 and time_of_day.days == 0:
        minutes, seconds = divmod(time_of_day.seconds, 60)
        hours, minutes = divmod(minutes, 60)
        return dt.time(hours, minutes, seconds, time_of_day.microseconds)
    if leap_bug and 0 < serial < 60:
        day += 1  # Excel counts a 29 February 1900 that never was: serials before it shift
    return epoch + dt.timedelta(days=day) + time_of_day


_ISO = re.compile(r"(?:(\d{4})-(\d{2})-(\d{2}))?T?(?:(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?)?Z?$")


def _iso_date(text: str) -> Value:
    """A cell of type "d" (an ISO 8601 date, time or both, as Strict workbooks write them)."""
    m = _ISO.match(text.strip())
    if not m or not any(m.groups()):
        raise ValueError(f"not an ISO 8601 date: {text!r}")
    year, month, day, hour, minute, second, fraction = m.groups()
    clock = dt.time(
        int(hour or 0),
        int(minute or 0),
        int(second or 0),
        round(float(fraction) * 1_000_000) if fraction else 0,
    )
    if year is None:
        return clock
    date = dt.date(int(year), int(month), int(day))
    return date if hour is None else dt.datetime.combine(date, clock)
