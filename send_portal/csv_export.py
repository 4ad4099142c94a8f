"""CSV downloads: the audit log, the statutory clock and the SEN2 return."""
from __future__ import annotations

import io
import tempfile

from flask import Response

# A cell a spreadsheet would read as a formula (or that could hide one behind
# a tab or a carriage return) is written with a leading apostrophe.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def spooled_csv(write, filename: str) -> Response:
    """write(stream) is called at once, in this request (one read
    transaction: a consistent snapshot), into a spooled file kept in memory
    while small and on disk when large; the response is sent from there, so
    memory stays flat however long the export, and sending needs neither the
    request nor the database. UTF-8 with a byte order mark, so spreadsheets
    read accented names correctly."""
    spool = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)
    try:
        text = io.TextIOWrapper(spool, encoding="utf-8-sig", newline="")
        write(text)
        text.flush()
        text.detach()  # the spool outlives its text wrapper
    except BaseException:
        spool.close()
        raise
    spool.seek(0)

    def chunks():
        try:
            while block := spool.read(64 * 1024):
                yield block
        finally:
            spool.close()

    return Response(chunks(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
