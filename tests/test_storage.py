"""Files in production: case materials in S3-compatible object storage (moto's server on 127.0.0.1),
and a storage that refuses writes or a disk that fills up while a case is submitted: a clear Chinese
error, the form kept, and nothing half-saved (no case without its files, no file without its case)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import boto3
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.helpers import food_licence_uploads
from yuexiu.cases import services
from yuexiu.cases.models import Attachment, BundleCase, Case
from yuexiu.core import files

PDF = b"%PDF-1.7\n" + b"7" * 4000


def _apply(client, food, key="k-1"):
    return client.post(
        f"/services/items/{food.slug}/apply/",
        {
            "idempotency_key": key,
            "material-2": SimpleUploadedFile("设备设施布局图.pdf", PDF, content_type="application/pdf"),
            "material-3": SimpleUploadedFile("食品安全规章制度.pdf", PDF, content_type="application/pdf"),
        },
    )


def _bucket_keys(moto_server: str, bucket: str) -> list[str]:
    client = boto3.client(
        "s3",
        endpoint_url=moto_server,
        aws_access_key_id="test-key",
        aws_secret_access_key="test-secret",
        region_name="us-east-1",
    )
    return sorted(entry["Key"] for entry in client.list_objects_v2(Bucket=bucket).get("Contents", []))


def _files_under(folder) -> list[Path]:
    return sorted(path for path in Path(folder).rglob("*") if path.is_file())


class _FaultyOs:
    """The ``os`` module as Django's FileSystemStorage sees it, with some calls replaced."""

    def __init__(self, **replaced) -> None:
        self.__dict__.update(replaced)

    def __getattr__(self, name: str):
        return getattr(os, name)


def test_case_materials_are_kept_in_object_storage_and_read_back_through_the_permission_checked_view(
    client, catalogue, food, object_storage, moto_server
):
    client.force_login(catalogue["enterprise_demo"])
    response = _apply(client, food)
    case = Case.objects.get()
    assert response.url == f"/cases/{case.number}/"
    attachments = list(case.attachments.order_by("id"))
    keys = _bucket_keys(moto_server, object_storage)
    assert keys == sorted(f"media/{attachment.file.name}" for attachment in attachments)
    assert all(key.startswith("media/cases/2026/12/") and key.endswith(".pdf") for key in keys)
    download = client.get(f"/cases/{case.number}/files/{attachments[0].pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    client.force_login(catalogue["citizen_demo"])  # not the applicant: the file does not exist for them
    assert client.get(f"/cases/{case.number}/files/{attachments[0].pk}/").status_code == 404


def test_an_object_store_that_refuses_writes_keeps_the_form_and_creates_no_case(
    client, catalogue, food, object_storage, moto_server, settings
):
    boto3.client(
        "s3",
        endpoint_url=moto_server,
        aws_access_key_id="test-key",
        aws_secret_access_key="test-secret",
        region_name="us-east-1",
    ).delete_bucket(Bucket=object_storage)  # every PUT is now answered 404 NoSuchBucket
    client.force_login(catalogue["enterprise_demo"])
    response = _apply(client, food, key="kept-key")
    page = response.content.decode()
    assert response.status_code == 400
    assert files.UNAVAILABLE_MESSAGE in page
    assert 'value="kept-key"' in page  # the same submission can be sent again
    assert Case.objects.count() == 0 and Attachment.objects.count() == 0


def test_a_media_folder_without_write_permission_answers_in_chinese_and_stores_nothing(
    client, catalogue, food, monkeypatch, settings
):
    def refused(path, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", path)

    # Tests run as root, whom file modes do not stop: the kernel's answer for a folder an unprivileged
    # server process may not write is given here instead.
    monkeypatch.setattr("django.core.files.storage.filesystem.os", _FaultyOs(open=refused, makedirs=refused))
    client.force_login(catalogue["enterprise_demo"])
    response = _apply(client, food)
    assert response.status_code == 400
    assert files.UNAVAILABLE_MESSAGE in response.content.decode()
    assert Case.objects.count() == 0 and Attachment.objects.count() == 0
    assert _files_under(settings.MEDIA_ROOT) == []


def test_a_disk_filling_up_during_the_second_file_leaves_no_case_and_no_file(
    client, catalogue, food, monkeypatch, settings
):
    opened: list[int] = []
    partial: list[str] = []

    def fdopen(fd, mode, *args):
        handle = os.fdopen(fd, mode, *args)
        opened.append(fd)
        if len(opened) == 1:
            return handle

        class FullDisk:
            def write(self, chunk):
                handle.write(chunk[: len(chunk) // 2])
                handle.flush()
                partial.append(os.readlink(f"/proc/self/fd/{fd}"))
                raise OSError(errno.ENOSPC, "No space left on device")

            def close(self):
                handle.close()

        return FullDisk()

    monkeypatch.setattr("django.core.files.storage.filesystem.os", _FaultyOs(fdopen=fdopen))
    client.force_login(catalogue["enterprise_demo"])
    response = _apply(client, food, key="full-disk")
    page = response.content.decode()
    assert response.status_code == 400
    assert files.FULL_MESSAGE in page and 'value="full-disk"' in page
    assert len(opened) == 2 and len(partial) == 1  # the first file was written, the second half-written
    assert Case.objects.count() == 0 and Attachment.objects.count() == 0
    assert _files_under(settings.MEDIA_ROOT) == []  # both removed
    monkeypatch.undo()  # space freed: the same submission goes through
    assert _apply(client, food, key="full-disk").status_code == 302
    case = Case.objects.get()
    assert [Path(settings.MEDIA_ROOT, a.file.name).read_bytes() for a in case.attachments.all()] == [PDF, PDF]


def test_a_full_disk_during_a_bundle_application_leaves_no_bundle_and_no_file(catalogue, monkeypatch, settings):
    from tests.cases.test_bundle_cases import FORM
    from yuexiu.catalog.models import ServiceBundle

    newborn = ServiceBundle.objects.get(seed_key="newborn-birth")
    written: list[str] = []
    real_save = files.FileSystemStorage.save

    def save_then_fill(storage, name, content, max_length=None):
        if written:
            Path(storage.path(name)).parent.mkdir(parents=True, exist_ok=True)
            Path(storage.path(name)).write_bytes(b"%PDF-half")
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(real_save(storage, name, content, max_length=max_length))
        return written[-1]

    monkeypatch.setattr(files.FileSystemStorage, "save", save_then_fill)
    with pytest.raises(files.StorageFailure) as refused:
        services.submit_bundle_application(
            bundle=newborn,
            applicant=catalogue["citizen_demo"],
            idempotency_key="b-full",
            form_data=FORM,
            uploads=[
                services.Upload("结婚证", "结婚证.pdf", b"%PDF-1.4 marriage"),
                services.Upload("出生医学证明", "出生医学证明.pdf", b"%PDF-1.4 birth"),
            ],
        )
    assert refused.value.code == "storage_full" and refused.value.message == files.FULL_MESSAGE
    assert len(written) == 1
    assert BundleCase.objects.count() == 0 and Case.objects.count() == 0 and Attachment.objects.count() == 0
    assert _files_under(settings.MEDIA_ROOT) == []


def test_a_service_failing_after_its_files_were_stored_removes_them(catalogue, food, monkeypatch, settings):
    def broken_event(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(services, "_event", broken_event)
    with pytest.raises(RuntimeError):
        services.submit_application(
            item=food,
            applicant=catalogue["enterprise_demo"],
            idempotency_key="late",
            form_data={},
            uploads=food_licence_uploads(),
        )
    assert Case.objects.count() == 0
    assert _files_under(settings.MEDIA_ROOT) == []
