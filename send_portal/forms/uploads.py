"""Files attached to SEND forms: what they really are, and where they live.

A file's type is read from its first bytes (and, for the ZIP-based office
formats, from the parts inside), never trusted from its name or the browser's
Content-Type: an .exe renamed report.pdf is refused. The name must also agree
with the content, so a download is always what it says it is.

Files live under the app's instance folder (never static/), named by a random
id, and are only ever served by views that check the reader's access."""
from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass

from flask import current_app

DEFAULT_MAX_SIZE_MB = 10
MAX_SIZE_MB_LIMIT = 50


@dataclass(frozen=True)
class FileType:
    label: str
    extensions: tuple[str, ...]
    mimetype: str


# The types a form may accept; a definition names them by key.
FILE_TYPES: dict[str, FileType] = {
    "pdf": FileType("PDF", (".pdf",), "application/pdf"),
    "docx": FileType("DOCX", (".docx",), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "doc": FileType("DOC", (".doc",), "application/msword"),
    "odt": FileType("ODT", (".odt",), "application/vnd.oasis.opendocument.text"),
    "rtf": FileType("RTF", (".rtf",), "application/rtf"),
    "xlsx": FileType("XLSX", (".xlsx",), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "png": FileType("PNG", (".png",), "image/png"),
    "jpeg": FileType("JPG", (".jpg", ".jpeg"), "image/jpeg"),
}

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def detect_type(content: bytes) -> str | None:
    """The FILE_TYPES key this content really is, or None."""
    if content.startswith(b"%PDF-"):
        return "pdf"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if content.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if content.startswith(b"{\\rtf"):
        return "rtf"
    if content.startswith(_OLE2):
        # An OLE2 compound file: Word 97-2003 (or Excel/PowerPoint of that age,
        # which we cannot tell apart cheaply; the name must also say .doc).
        return "doc"
    if content.startswith(b"PK\x03\x04"):
        return _detect_zip(content)
    return None


def _detect_zip(content: bytes) -> str | None:
    """Office Open XML and OpenDocument files are ZIP archives; the parts
    inside say which. Only the directory is read, nothing is extracted."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" in names and "word/document.xml" in names:
                return "docx"
            if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
                return "xlsx"
            if "mimetype" in names:
                info = archive.getinfo("mimetype")
                if info.file_size <= 100 and archive.read("mimetype").strip() == _ODT_MIMETYPE:
                    return "odt"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, NotImplementedError, EOFError):
        return None
    return None


def clean_filename(raw: str) -> str:
    """The name to show and to download as: the last part of whatever path
    the browser sent, without control characters, at most 150 characters
    (keeping the extension)."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[\\/]", name)[-1]
    name = _CONTROL.sub("", name).strip().strip(".") or "file"
    if len(name) > 150:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 150 - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:150]
    return name


def extension_of(filename: str) -> str:
    return os.path.splitext(filename)[1].lower()


def types_phrase(keys) -> str:
    """"PDF, DOCX or PNG"."""
    labels = [FILE_TYPES[k].label for k in keys]
    if len(labels) <= 1:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " or " + labels[-1]


def accept_attribute(keys) -> str:
    return ",".join(ext for k in keys for ext in FILE_TYPES[k].extensions)


def size_phrase(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size} bytes"


@dataclass
class CheckedFile:
    filename: str
    file_type: str
    content: bytes

    @property
    def mimetype(self) -> str:
        return FILE_TYPES[self.file_type].mimetype

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


class UploadRefused(ValueError):
    pass


def check_upload(storage, allowed_types, max_size_mb: float) -> CheckedFile:
    """Read an uploaded file (a werkzeug FileStorage) and check it against a
    question's rules; UploadRefused says why not, in words for the user."""
    limit = int(max_size_mb * 1024 * 1024)
    content = storage.stream.read(limit + 1)
    if len(content) > limit:
        raise UploadRefused(f"The selected file must be smaller than {_mb(max_size_mb)}")
    if not content:
        raise UploadRefused("The selected file is empty")
    filename = clean_filename(storage.filename or "")
    detected = detect_type(content)
    wanted = f"The selected file must be a {types_phrase(allowed_types)}"
    if detected is None or detected not in allowed_types:
        raise UploadRefused(wanted)
    if extension_of(filename) not in FILE_TYPES[detected].extensions:
        # The content is fine but the name says otherwise: refuse rather than
        # serve a file whose name lies about it.
        raise UploadRefused(f"{wanted}. The file’s name must end {' or '.join(FILE_TYPES[detected].extensions)}, like its contents")
    return CheckedFile(filename=filename, file_type=detected, content=content)


def _mb(value: float) -> str:
    return f"{value:g} MB"


# --- storage -------------------------------------------------------------------


def upload_folder() -> str:
    folder = os.path.join(current_app.instance_path, "uploads")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    return folder


def new_storage_name() -> str:
    return secrets.token_hex(16)


def _path(storage_name: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{32}", storage_name or ""):
        raise ValueError("not a storage name")
    return os.path.join(upload_folder(), storage_name)


def store(storage_name: str, content: bytes) -> None:
    """Write the file whole, or not at all."""
    path = _path(storage_name)
    partial = path + ".part"
    with open(partial, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def path_of(storage_name: str) -> str:
    return _path(storage_name)


def discard(storage_name: str) -> None:
    try:
        os.remove(_path(storage_name))
    except (FileNotFoundError, ValueError):
        pass
