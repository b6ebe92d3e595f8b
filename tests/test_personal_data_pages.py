"""Pages that may show personal data are never stored by a cache (``Cache-Control: no-store``), and
invisible control characters (U+202E, U+200B …) never get into names and notes: every form value
loses them at the door, as uploaded file names already do."""

from __future__ import annotations

import pytest

from tests.ratings.test_ratings import closed_case  # noqa: F401  # shared fixture
from yuexiu.core import crypto
from yuexiu.core.models import User
from yuexiu.core.text_limits import remove_invisible

pytestmark = pytest.mark.django_db


def no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


def test_the_profile_with_an_unmasked_id_number_is_not_stored(client, cast):
    client.force_login(cast["citizen_demo"])
    assert no_store(client.get("/accounts/profile/"))
    revealed = client.post("/accounts/profile/", {"reveal": "id_number"})
    assert "440104199001010029" in revealed.content.decode()
    assert no_store(revealed) and "private" in revealed["Cache-Control"]


def test_staff_pages_and_the_console_are_not_stored(client, cast):
    client.force_login(cast["window_hongqiao"])
    assert no_store(client.get("/workbench/"))
    assert no_store(client.get("/api/v1/me"))
    client.force_login(cast["sysadmin"])
    user = cast["citizen_demo"]
    page = client.get(f"/admin/core/user/{user.pk}/change/")
    assert page.status_code == 200 and no_store(page)


def test_a_registration_form_shown_again_with_the_typed_number_is_not_stored(client, reference_data):
    response = client.post(
        "/accounts/register/", {"account_type": "citizen", "username": "x y", "id_number": "11010519491231002X"}
    )
    assert "11010519491231002X" in response.content.decode()
    assert no_store(response)


def test_public_pages_fetched_without_an_account_stay_cacheable(client, reference_data):
    assert not no_store(client.get("/"))
    assert not no_store(client.get("/organisations/"))


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("张三\u202e", "张三"),  # right-to-left override
        ("a\u200bb\u200c\u200d\u2060c", "abc"),  # zero-width space, non-joiner, joiner, word joiner
        ("\ufeff李四", "李四"),  # byte-order mark
        ("soft\u00adhyphen", "softhyphen"),
        ("\u2066隔离\u2069", "隔离"),  # bidi isolates
        ("铃\x07声\x1b", "铃声"),  # C0 controls
        ("第一行\r\n第二行\t缩进", "第一行\r\n第二行\t缩进"),  # line breaks and tab stay
        ("段\u2028落\u2029", "段\n落\n"),
        ("张\u3000三\u00a0丰", "张\u3000三\u00a0丰"),  # visible spaces stay
        ("\ue000生僻字", "\ue000生僻字"),  # private use: legacy encodings of rare name characters
    ],
)
def test_invisible_characters_are_removed_and_visible_ones_kept(typed, kept):
    assert remove_invisible(typed) == kept


def test_registration_keeps_names_free_of_invisible_characters_and_passwords_exact(client, reference_data):
    password = "Mima-2026\u200bok"
    client.post(
        "/accounts/register/",
        {"account_type": "citizen", "username": "wang\u200bwu", "full_name": "王\u202e五",
         "id_number": "11010519491231002X", "password": password},
    )  # fmt: skip
    user = User.objects.get(id_number_digest=crypto.digest("11010519491231002X"))
    assert (user.username, user.full_name) == ("wangwu", "王五")
    assert user.check_password(password)  # a password is compared, never shown: left as typed


def test_a_rating_comment_is_stored_without_invisible_characters(client, closed_case):  # noqa: F811
    from yuexiu.ratings import services
    from yuexiu.ratings.models import Rating

    token = services.rating_token(closed_case)
    client.post(f"/ratings/r/{token}/", {"level": "1", "comment": "窗口\u202e态度\u200b差"})
    assert Rating.objects.get(case=closed_case).comment == "窗口态度差"


def test_an_urlencoded_form_is_cleaned_as_a_multipart_one_is(client, cast):
    from urllib.parse import urlencode

    client.force_login(cast["citizen_demo"])
    body = urlencode({"reveal": "phone\u200b"})
    response = client.post("/accounts/profile/", body, content_type="application/x-www-form-urlencoded")
    assert "13800138000" in response.content.decode()


def test_imported_tables_lose_invisible_characters_too():
    from yuexiu.core import tabular

    table = tabular.read_table("企业名称,备注\n\u202e越秀\u200b科技,第一行\u2028第二行\n".encode())
    assert table.rows[0].values == {"企业名称": "越秀科技", "备注": "第一行\n第二行"}
