"""Uploads are checked for size before they are read: an oversized file is refused in Chinese with
its name, size and the limit, without its bytes ever being read into memory, and while it arrives
the server keeps no more of it than the largest file any page accepts."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile

from yuexiu.cases.models import Case
from yuexiu.core.uploads import SizeLimitedUploadHandler, UploadTooLarge, read_upload

pytestmark = pytest.mark.django_db

MEGABYTE = 1024 * 1024
PDF = b"%PDF-1.7\n" + b"1" * 50


def test_django_upload_limits_are_stated_and_oversized_files_stream_through_the_limited_handler(settings):
    assert settings.FILE_UPLOAD_HANDLERS == [
        "django.core.files.uploadhandler.MemoryFileUploadHandler",
        "yuexiu.core.uploads.SizeLimitedUploadHandler",
    ]
    assert settings.UPLOAD_MAX_BYTES == 20 * MEGABYTE
    assert (settings.FILE_UPLOAD_MAX_MEMORY_SIZE, settings.DATA_UPLOAD_MAX_MEMORY_SIZE) == (2_621_440, 2_621_440)


def test_the_handler_keeps_at_most_the_largest_accepted_size_and_reports_the_size_received(settings):
    settings.UPLOAD_MAX_BYTES = 1000
    handler = SizeLimitedUploadHandler()
    handler.new_file("material-2", "big.pdf", "application/pdf", None)
    received = 0
    for _ in range(10):
        handler.receive_data_chunk(b"x" * 300, received)
        received += 300
    uploaded = handler.file_complete(received)
    assert (uploaded.size, uploaded.truncated) == (3000, True)
    uploaded.seek(0, io.SEEK_END)
    assert uploaded.tell() == 1000  # bytes kept on disk
    with pytest.raises(UploadTooLarge, match="文件“big.pdf”大小"):
        read_upload(uploaded, limit=5000)  # even under a page's limit: it was cut, so it is refused


def test_an_oversized_file_is_refused_before_it_is_read(monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("an oversized upload was read")

    big = TemporaryUploadedFile("营业执照.pdf", "application/pdf", 40 * MEGABYTE, None)
    monkeypatch.setattr(TemporaryUploadedFile, "read", never, raising=False)
    monkeypatch.setattr(TemporaryUploadedFile, "chunks", never)
    with pytest.raises(UploadTooLarge) as refused:
        read_upload(big, limit=10 * MEGABYTE)
    expected = "文件“营业执照.pdf”大小 40.0 MB，超过 10 MB 上限，未予接收。请压缩或拆分后重新上传。"
    assert refused.value.message == expected
    assert read_upload(SimpleUploadedFile("小.pdf", PDF), limit=10 * MEGABYTE) == PDF


def test_an_application_with_a_12_mb_file_lists_it_among_every_problem_and_stores_nothing(client, catalogue, food):
    client.force_login(catalogue["enterprise_demo"])
    big = b"%PDF-1.7\n" + b"0" * (12 * MEGABYTE)
    response = client.post(
        f"/services/items/{food.slug}/apply/",
        {
            "idempotency_key": "big",
            "material-2": SimpleUploadedFile("设备设施布局图.pdf", big, content_type="application/pdf"),
            "material-3": SimpleUploadedFile("规章制度.doc", b"not a pdf", content_type="application/msword"),
        },
    )
    page = response.content.decode()
    assert "文件“设备设施布局图.pdf”大小 12.0 MB，超过 10 MB 上限，未予接收。" in page
    assert "文件“规章制度.doc”的格式不支持" in page  # every problem at once still
    assert Case.objects.count() == 0


def test_table_imports_refuse_an_oversized_file_by_its_size(client, catalogue, settings):
    settings.CATALOGUE_IMPORT_MAX_BYTES = MEGABYTE
    client.force_login(catalogue["reviewer_zsj"])
    data = b"a" * (3 * MEGABYTE // 2)
    response = client.post("/workbench/catalog/import/", {"file": SimpleUploadedFile("目录.csv", data)})
    assert "文件“目录.csv”大小 1.5 MB，超过 1 MB 上限，未予接收。" in response.content.decode()
