"""Files kept by the platform (application materials, Parquet snapshots) through Django's storages.

Two named storages (``settings.STORAGES``): ``default`` for media (case materials) and ``snapshots``
for the Parquet snapshots of matching runs. Each is a local folder in the embedded mode and
S3-compatible object storage in production (``STORAGE_BACKEND=s3``, django-storages); see
docs/adr/0008-production-deployment.md.

Writes go through ``save_field_file`` (or ``publish_snapshot``): a storage that refuses the write (an
object store answering an error, a folder without write permission) or a full disk becomes a
``StorageFailure`` with a Chinese message, and a partly written file is removed. A service that
stores files inside its transaction is wrapped in ``discard_on_failure``: when anything after the
first write fails (another file, the database), every file it wrote is deleted again, so no stored
file is left that no row records, and no row is left whose file is missing.
"""

from __future__ import annotations

import contextvars
import errno
import logging
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.db.models.fields.files import FieldFile
from django.utils.functional import cached_property

from yuexiu.core.errors import DomainError

logger = logging.getLogger(__name__)

SNAPSHOTS = "snapshots"
FULL_DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


class StorageFailure(DomainError):
    """The storage could not keep a file: ``code`` is ``storage_full`` (no space left) or
    ``storage_unavailable`` (the storage refused or could not be reached). Answered with 503: the
    request was valid and may be sent again once the storage is repaired."""

    status = 503
    code = "storage_unavailable"


FULL_MESSAGE = (
    "文件存储空间已满，文件未能保存，本次提交未生效（已填写的内容已保留）。请稍后重试，或联系系统管理员扩容。"
)
UNAVAILABLE_MESSAGE = (
    "文件存储暂时无法写入，文件未能保存，本次提交未生效（已填写的内容已保留）。请稍后重试，或联系系统管理员。"
)


def storage_errors() -> tuple[type[BaseException], ...]:
    """The exceptions a storage raises when it cannot keep a file: ``OSError`` for a local folder and,
    when boto3 is installed, the S3 client's errors (answers such as AccessDenied or NoSuchBucket,
    connection failures, failed uploads)."""
    found: list[type[BaseException]] = [OSError]
    try:
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # pragma: no cover - boto3 is in requirements.txt
        return tuple(found)
    return (*found, Boto3Error, BotoCoreError, ClientError)


SNAPSHOT_FULL_MESSAGE = "数据快照未能保存：文件存储空间已满。本批次未完成，未生成任何候选名单，请扩容后重新运行。"
SNAPSHOT_UNAVAILABLE_MESSAGE = (
    "数据快照未能保存：文件存储暂时无法写入。本批次未完成，未生成任何候选名单，请稍后重新运行。"
)


def failure_from(
    error: BaseException, *, full: str = FULL_MESSAGE, unavailable: str = UNAVAILABLE_MESSAGE
) -> StorageFailure:
    """The Chinese ``StorageFailure`` for an exception of ``storage_errors()``: ``full`` for a full
    disk or quota, ``unavailable`` for any other refusal."""
    if isinstance(error, OSError) and error.errno in FULL_DISK_ERRNOS:
        return StorageFailure(full, code="storage_full")
    return StorageFailure(unavailable, code="storage_unavailable")


_written: contextvars.ContextVar[list[tuple[Storage, str]] | None] = contextvars.ContextVar(
    "yuexiu_files_written", default=None
)


@contextmanager
def discarding_on_failure() -> Iterator[None]:
    """Delete every file written through this module inside the block if the block raises. Put it
    inside the ``transaction.atomic`` block that saves the files' rows: a failure of the COMMIT itself
    keeps the files, since the database may have committed before the connection dropped, and a
    case without its files is worse than a stray file."""
    written: list[tuple[Storage, str]] = []
    token = _written.set(written)
    try:
        yield
    except BaseException:
        for storage, name in reversed(written):
            delete_quietly(storage, name)
        raise
    finally:
        _written.reset(token)
        outer = _written.get()
        if outer is not None:
            outer.extend(written)


def delete_quietly(storage: Storage, name: str) -> None:
    """Delete ``name`` from ``storage``; a failure is logged (the file is then an orphan for the
    operator to remove), never raised, so the original error reaches the user."""
    try:
        storage.delete(name)
    except Exception:  # noqa: BLE001 - cleanup after a failure must not hide that failure
        logger.warning("could not remove %s from storage after a failed write", name, exc_info=True)


def unique_name(stem: str, extension: str) -> str:
    """``stem`` with a random suffix: two uploads never share a stored object, so removing one
    after a failure never removes another's file."""
    return f"{stem}-{secrets.token_hex(6)}{extension}"


def save_field_file(field_file: FieldFile, file_name: str, content: File) -> str:
    """Store ``content`` for a ``FileField`` value under ``upload_to``/``file_name`` (without saving
    the model) and return the stored name. Raises ``StorageFailure`` (Chinese) when the storage
    refuses the write or the disk is full; a partly written file is removed first."""
    storage = field_file.storage
    name = field_file.field.generate_filename(field_file.instance, file_name)
    name = storage.get_available_name(name, max_length=field_file.field.max_length)
    try:
        stored = storage.save(name, content, max_length=field_file.field.max_length)
    except storage_errors() as error:
        logger.error("storage refused %s: %s", name, error)
        delete_quietly(storage, name)
        raise failure_from(error) from error
    written = _written.get()
    if written is not None:
        written.append((storage, stored))
    field_file.name = stored
    setattr(field_file.instance, field_file.field.attname, stored)
    field_file._committed = True
    return stored


class VarFolderStorage(FileSystemStorage):
    """The snapshots storage of the embedded mode: files under ``settings.VAR_DIR`` (read when first
    used and again whenever the setting changes, as Django's own storage follows ``MEDIA_ROOT``), so
    that a matching run's folder var/policy-runs/<run>/ is its snapshot's home and nothing is copied."""

    @cached_property
    def base_location(self) -> str:
        return self._value_or_setting(self._location, settings.VAR_DIR)

    def _clear_cached_properties(self, setting: str, **kwargs: Any) -> None:
        super()._clear_cached_properties(setting, **kwargs)
        if setting == "VAR_DIR":
            for name in ("base_location", "location"):
                self.__dict__.pop(name, None)


def save_snapshot_file(name: str, content: bytes) -> str:
    """Store ``content`` under ``name`` (e.g. ``audit-archive/….jsonl.gz``) in the snapshots storage,
    shared by every machine, and return the stored name. Raises ``StorageFailure`` (Chinese) when the
    storage refuses the write; a partly written file is removed first."""
    storage = snapshot_storage()
    try:
        return storage.save(name, ContentFile(content))
    except storage_errors() as error:
        logger.error("storage refused %s: %s", name, error)
        delete_quietly(storage, name)
        raise failure_from(error) from error


def snapshot_storage() -> Storage:
    return storages[SNAPSHOTS]


def publish_snapshot(local_path: Path, name: str) -> str:
    """Keep the local file ``local_path`` (a Parquet snapshot DuckDB wrote) in the ``snapshots``
    storage under ``name`` and return ``name``. A local snapshots storage whose folder already holds
    the file at that name (the embedded mode: the run's folder is under it) is left as it is; any
    other storage receives a copy (overwriting an earlier copy of a retried run). Raises
    ``StorageFailure`` when the storage refuses it."""
    storage = snapshot_storage()
    if is_local_snapshot(name, local_path):
        return name
    try:
        if storage.exists(name):
            storage.delete(name)
        with local_path.open("rb") as handle:
            stored = storage.save(name, File(handle, name=local_path.name))
    except storage_errors() as error:
        logger.error("snapshot storage refused %s: %s", name, error)
        raise failure_from(error, full=SNAPSHOT_FULL_MESSAGE, unavailable=SNAPSHOT_UNAVAILABLE_MESSAGE) from error
    return stored


def is_local_snapshot(name: str, local_path: Path) -> bool:
    """True when the snapshots storage is a local folder that holds ``local_path`` as ``name``."""
    storage = snapshot_storage()
    return isinstance(storage, FileSystemStorage) and Path(storage.path(name)).resolve() == local_path.resolve()


def local_snapshot(name: str, cache_dir: Path) -> Path:
    """A local path of the snapshot ``name`` for DuckDB, which reads local files only: the file
    itself for a local storage, otherwise a copy downloaded once into ``cache_dir``."""
    storage = snapshot_storage()
    if isinstance(storage, FileSystemStorage):
        return Path(storage.path(name))
    target = cache_dir / name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with storage.open(name, "rb") as source, tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as copy:
            shutil.copyfileobj(source, copy)
        Path(copy.name).replace(target)
    return target


def probe(storage: Storage) -> None:
    """Write, read back and delete a small file in ``storage``; raises ``StorageFailure`` when any step
    fails or what is read differs from what was written. Used by ``/readyz`` and ``yuexiu prod-check``."""
    from django.core.files.base import ContentFile

    payload = secrets.token_bytes(16)
    name = f"health/probe-{secrets.token_hex(8)}.bin"
    try:
        stored = storage.save(name, ContentFile(payload))
        try:
            with storage.open(stored, "rb") as handle:
                read: Any = handle.read()
        finally:
            storage.delete(stored)
    except storage_errors() as error:
        raise failure_from(error) from error
    if read != payload:
        raise StorageFailure("文件存储读回的内容与写入的不一致。", code="storage_inconsistent")
