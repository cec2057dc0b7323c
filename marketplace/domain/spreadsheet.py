"""CSV files that spreadsheet programs open as data, never as formulas.

Every export is written by `csv_text()`, which passes every cell through `safe_cell()`, following
OWASP's CSV-injection rules: a text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
return (or with one of these after leading whitespace, which some programs skip) is prefixed with
a single quote, so it is shown as the text it is; the csv module quotes what needs quoting.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from decimal import Decimal

# What a spreadsheet may read as the start of a formula; the full-width forms too, which some
# programs fold into the plain ones.
FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")


def safe_cell(value: object) -> str:
    """The cell's text, made safe to open in a spreadsheet. Numbers stay numbers (a negative
    number is not a formula); every text that could start a formula gets a leading quote."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    if text[:1] in FORMULA_STARTS or text.lstrip()[:1] in FORMULA_STARTS:
        return "'" + text
    return text


def csv_text(rows: Iterable[Iterable[object]]) -> str:
    """The rows (header first) as CSV text, every cell through `safe_cell()`."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()
