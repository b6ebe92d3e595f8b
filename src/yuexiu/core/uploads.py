"""Uploaded files: their size is checked before they are read, and what the server holds of them is
bounded while they arrive.

- ``SizeLimitedUploadHandler`` (in ``FILE_UPLOAD_HANDLERS``, after Django's memory handler for small
  requests) streams a file to a temporary file, but stops keeping its bytes once it passes
  ``UPLOAD_MAX_BYTES`` (the largest file any page accepts), while still counting them: a 2 GB upload
  costs the server no more than 20 MB of disk and no memory, and the page can still say how large it
  was.
- ``read_upload`` is how every page reads an uploaded file: it checks the size received against the
  page's own limit first and refuses with a Chinese message naming the file, its size and the limit,
  before one byte is read into memory; then it reads the file in chunks.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler

from yuexiu.core.errors import DomainError

MEGABYTE = 1024 * 1024
logger = logging.getLogger(__name__)


class UploadTooLarge(DomainError):
    """A file over the limit of the page it was sent to; ``message`` names it, its size and the limit."""

    status = 413
    code = "upload_too_large"


def size_problem(file_name: str, size: int, limit: int) -> str:
    """The Chinese refusal for a file of ``size`` bytes over ``limit`` bytes, or ``""`` when it fits:
    ``"文件“营业执照.pdf”大小 40.0 MB，超过 10 MB 上限，未予接收。请压缩或拆分后重新上传。"``."""
    if size <= limit:
        return ""
    name = file_name or "未命名文件"
    return (
        f"文件“{name}”大小 {size / MEGABYTE:.1f} MB，超过 {limit / MEGABYTE:g} MB 上限，未予接收。"
        "请压缩或拆分后重新上传。"
    )


def read_upload(upload: UploadedFile, *, limit: int) -> bytes:
    """The bytes of ``upload`` when it is at most ``limit`` bytes, read in chunks. The size checked is
    the number of bytes received (``upload.size``, counted by the upload handler as they arrived), so
    an oversized file is refused before it is read. Raises ``UploadTooLarge``."""
    size = upload.size or 0
    if size > limit or getattr(upload, "truncated", False):
        raise UploadTooLarge(size_problem(upload.name or "", max(size, limit + 1), limit))
    return b"".join(upload.chunks())


class SizeLimitedUploadHandler(TemporaryFileUploadHandler):
    """Django's temporary-file handler that keeps at most ``settings.UPLOAD_MAX_BYTES`` of each file
    and discards the rest while counting it; the file it returns carries the full size received and
    ``truncated = True`` when bytes were discarded (``read_upload`` refuses it)."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.truncated = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        room = settings.UPLOAD_MAX_BYTES - start
        if len(raw_data) > room:
            self.truncated = True
            raw_data = raw_data[: max(room, 0)]
        if raw_data:
            self.file.write(raw_data)

    def file_complete(self, file_size: int) -> UploadedFile:
        uploaded = super().file_complete(file_size)
        uploaded.truncated = self.truncated  # type: ignore[attr-defined]  # read by read_upload
        return uploaded


def largest_request_bytes() -> int:
    """The largest request body a page accepts whole, in bytes: a case application with
    ``CASE_UPLOAD_MAX_FILES`` files each at ``CASE_UPLOAD_MAX_BYTES`` plus ``DATA_UPLOAD_MAX_MEMORY_SIZE``
    of form text (the largest of all forms: the imports send one file of at most 20 MB). The reverse
    proxy's ``client_max_body_size`` (deploy/nginx/yuexiu.conf) is this rounded up to whole MiB, so
    that a larger file still reaches the platform and is refused in Chinese with its size."""
    return (
        max(
            settings.CASE_UPLOAD_MAX_FILES * settings.CASE_UPLOAD_MAX_BYTES,
            settings.UPLOAD_MAX_BYTES,
        )
        + settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    )
