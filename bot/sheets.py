"""Cells for every CSV and XLSX the service writes (exports, the review, survey results): text that a citizen, a
leader or an admin typed is kept as text, never run as a formula by the spreadsheet that opens it.

- XLSX: openpyxl turns any string starting with "=" into a formula; such a string is written as a string cell.
- CSV: Excel and WPS evaluate a cell starting with = + - @ (or a tab / carriage return before one) as a formula;
  such a value gets a leading apostrophe, as OWASP advises. Numbers stay numbers.
"""
from __future__ import annotations

import csv
import io
from typing import Any, Iterable

from handlers.messages import plain_text

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_value(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_line(row: Iterable[Any]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerow([csv_value(v) for v in row])
    return buf.getvalue().encode("utf-8")


def csv_dicts(out, columns: Iterable[str], rows: Iterable[dict[str, Any]]) -> None:
    """A header and the rows, each value made safe, to a text file object."""
    writer = csv.DictWriter(out, list(columns))
    writer.writeheader()
    writer.writerows({k: csv_value(v) for k, v in row.items()} for row in rows)


def xlsx_row(ws, row: Iterable[Any]) -> list[Any]:
    """The row for `ws.append`: a string openpyxl would read as a formula becomes a string cell (either mode), and a
    control character XLSX cannot hold (openpyxl raises, and the whole download failed) is dropped."""
    from openpyxl.cell import Cell, WriteOnlyCell
    out = []
    for value in row:
        if isinstance(value, str):
            value = plain_text(value)
        if isinstance(value, str) and value.startswith("="):
            make = WriteOnlyCell if type(ws).__name__ == "WriteOnlyWorksheet" else Cell
            cell = make(ws, value=value)
            cell.data_type = "s"
            value = cell
        out.append(value)
    return out
