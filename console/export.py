"""CSV downloads of the console, streamed and safe to open in a spreadsheet."""

import csv
import re

from django.http import StreamingHttpResponse

# Spreadsheets run a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# ...except plain numbers (a signed amount) and phone numbers, which a spreadsheet reads as data.
_NUMBER_OR_PHONE = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?$|^\+?[0-9][0-9 ()-]*$")


def safe_cell(value):
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER_OR_PHONE.match(value):
        return "'" + value
    return value


class _Echo:
    def write(self, value):
        return value


def stream_csv(filename: str, header: list[str], rows, *, batch: int = 500) -> StreamingHttpResponse:
    """A CSV download written while it is read: `rows` is consumed lazily, `batch` lines per chunk."""
    writer = csv.writer(_Echo())

    def chunks():
        lines = ["\ufeff" + writer.writerow(header)]  # the BOM makes Excel read UTF-8
        for row in rows:
            lines.append(writer.writerow([safe_cell(value) for value in row]))
            if len(lines) >= batch:
                yield "".join(lines)
                lines = []
        yield "".join(lines)

    response = StreamingHttpResponse(chunks(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
