"""身份证号, phone numbers and bank accounts are sealed with SM4 at rest (GB/T 39786-2021 8.3 d), found
through a keyed SM3 digest, kept unique through it, and re-sealed by `yuexiu rotate-keys`."""

from __future__ import annotations

import base64
import importlib
from io import StringIO

import pytest
from django.apps import apps
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import override_settings

from tests.ratings.test_ratings import closed_case  # noqa: F401  # shared fixture
from tests.test_security import PRODUCTION_ENV, run_manage
from yuexiu.core import crypto, identity, services, smcrypto
from yuexiu.core.models import OutboxMessage, User

pytestmark = pytest.mark.django_db

ID_NUMBER = "11010519491231002X"
PHONE = "13800138000"
OLD_KEY = "1:" + base64.b64encode(b"old-sm4-key-0001").decode()
NEW_KEY = "2:" + base64.b64encode(b"new-sm4-key-0002").decode()
WRONG_KEY = "1:" + base64.b64encode(b"not-the-old-key!").decode()


def raw_row(table: str, pk: int, *columns: str) -> tuple:
    """The stored values as the database holds them, bypassing the model's fields."""
    quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quoted} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()


def register(username: str = "zhangsan", id_number: str = ID_NUMBER, password: str = "Mima-2026-ok") -> User | None:
    return services.register_citizen(
        username=username, password=password, full_name="张三", id_number=id_number, phone=PHONE
    )


def test_sm3_and_sm4_follow_the_standards_test_vectors():
    # GB/T 32905-2016 appendix A.1: SM3("abc")
    assert smcrypto.sm3_hex(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    sealed = smcrypto.seal("张三 11010519491231002X", key=b"0123456789abcdef", version=7)
    assert sealed.startswith("sm4gcm:v7:")
    assert smcrypto.open_sealed(sealed, keys={7: b"0123456789abcdef"}) == "张三 11010519491231002X"
    assert smcrypto.seal("x", key=b"0123456789abcdef", version=7) != smcrypto.seal(
        "x", key=b"0123456789abcdef", version=7
    )
    assert len(sealed) <= smcrypto.sealed_length(len("张三 11010519491231002X"))


def test_the_database_column_holds_no_plain_id_number_or_phone(reference_data):
    user = register()
    stored_id, stored_phone, stored_digest = raw_row("core_user", user.pk, "id_number", "phone", "id_number_digest")
    assert stored_id.startswith("sm4gcm:v1:") and ID_NUMBER not in stored_id
    assert stored_phone.startswith("sm4gcm:v1:") and PHONE not in stored_phone
    assert stored_digest == crypto.digest(ID_NUMBER) and len(stored_digest) == 64 and ID_NUMBER not in stored_digest
    user.refresh_from_db()
    assert (user.id_number, user.phone) == (ID_NUMBER, PHONE)
    assert (identity.mask_id_number(user.id_number), identity.mask_phone(user.phone)) == (
        "110105********002X",
        "138****8000",
    )


def test_an_applicants_numbers_form_and_identity_key_are_sealed_on_the_case(reference_data, closed_case):  # noqa: F811
    closed_case.applicant_id_number, closed_case.applicant_phone = ID_NUMBER, PHONE
    closed_case.form_data = {"mother_id_number": ID_NUMBER, "note": "母亲"}
    closed_case.save(update_fields=["applicant_id_number", "applicant_phone", "form_data"])
    stored = raw_row("cases_case", closed_case.pk, "applicant_id_number", "applicant_phone", "form_data")
    assert all(value.startswith("sm4gcm:v1:") for value in stored)
    assert ID_NUMBER not in stored[0] + stored[2] and PHONE not in stored[1]
    closed_case.refresh_from_db()
    assert closed_case.form_data == {"mother_id_number": ID_NUMBER, "note": "母亲"}
    from yuexiu.cases.services import applicant_identity

    assert applicant_identity(applicant=None, id_number=ID_NUMBER) == f"id:{crypto.digest(ID_NUMBER)}"


def test_a_person_is_found_by_the_digest_and_a_plain_comparison_is_refused(reference_data):
    user = register()
    assert User.objects.get(id_number_digest=crypto.digest(ID_NUMBER)) == user
    assert User.objects.filter(id_number_digest=crypto.digest("110105194912310029")).count() == 0
    with pytest.raises(crypto.EncryptedFieldLookupError, match="加密字段 id_number 不能按明文查询"):
        User.objects.filter(id_number=ID_NUMBER).count()
    with pytest.raises(FieldError):
        User.objects.filter(phone__startswith="138").count()
    assert User.objects.filter(pk=user.pk).exclude(phone="").count() == 1  # the empty value stays comparable


def test_a_second_registration_of_the_same_id_number_is_refused_through_the_digest(reference_data):
    first = register("zhangsan")
    assert register("zhangsan2") is None  # the service finds the owner by digest
    assert list(User.objects.filter(id_number_digest=crypto.digest(ID_NUMBER))) == [first]
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="direct", id_number=ID_NUMBER)  # the unique digest column refuses it


def test_the_outbox_is_searched_by_phone_through_the_digest(reference_data):
    OutboxMessage.objects.create(phone=PHONE, topic="t", subject="您好", body="正文", dedupe_key="k1")
    OutboxMessage.objects.create(phone="13900139000", topic="t", subject="别人", body="正文", dedupe_key="k2")
    output = StringIO()
    call_command("outbox", phone=PHONE, stdout=output)
    assert "您好" in output.getvalue() and "别人" not in output.getvalue()


def test_rotation_reseals_every_value_under_the_new_key_and_is_idempotent(reference_data):
    with override_settings(DATA_ENCRYPTION_KEYS=OLD_KEY, DATA_ENCRYPTION_KEY_VERSION=0):
        user = register()
        OutboxMessage.objects.create(phone=PHONE, topic="t", subject="s", body="b", dedupe_key="k")
        assert raw_row("core_user", user.pk, "id_number")[0].startswith("sm4gcm:v1:")
    with override_settings(DATA_ENCRYPTION_KEYS=f"{OLD_KEY},{NEW_KEY}", DATA_ENCRYPTION_KEY_VERSION=2):
        assert User.objects.get(pk=user.pk).id_number == ID_NUMBER  # old values read under the new setting
        output = StringIO()
        call_command("rotate-keys", batch_size=1, stdout=output)
        assert "用户（身份证号、手机号）：检查 " in output.getvalue()
        assert "完成：共重新加密 " in output.getvalue()
        stored_id, stored_phone = raw_row("core_user", user.pk, "id_number", "phone")
        assert stored_id.startswith("sm4gcm:v2:") and stored_phone.startswith("sm4gcm:v2:")
        again = StringIO()
        call_command("rotate-keys", stdout=again)
        assert "完成：共重新加密 0 个值，全部密文均已使用密钥版本 2。" in again.getvalue()
    with override_settings(DATA_ENCRYPTION_KEYS=NEW_KEY, DATA_ENCRYPTION_KEY_VERSION=2):  # old key retired
        user = User.objects.get(id_number_digest=crypto.digest(ID_NUMBER))
        assert (user.id_number, user.phone) == (ID_NUMBER, PHONE)
        assert OutboxMessage.objects.get(dedupe_key="k").phone == PHONE


def test_a_wrong_or_missing_key_gives_a_clear_error_not_garbage(reference_data):
    with override_settings(DATA_ENCRYPTION_KEYS=OLD_KEY, DATA_ENCRYPTION_KEY_VERSION=0):
        user = register()
    with (
        override_settings(DATA_ENCRYPTION_KEYS=WRONG_KEY),
        pytest.raises(crypto.DecryptionError, match="密文无法用密钥版本 1 解开：密钥与加密时不同，或密文被改动"),
    ):
        User.objects.get(pk=user.pk)
    with (
        override_settings(DATA_ENCRYPTION_KEYS=NEW_KEY),
        pytest.raises(crypto.DecryptionError, match="密文使用密钥版本 1，但该版本未配置"),
    ):
        User.objects.get(pk=user.pk)


def test_the_data_migration_seals_plain_rows_and_fills_their_digests(reference_data):
    user = register()
    with connection.cursor() as cursor:  # the state before the migration: plain columns, no digest
        cursor.execute(
            "UPDATE core_user SET id_number = %s, phone = %s, id_number_digest = NULL WHERE id = %s",
            [ID_NUMBER, PHONE, user.pk],
        )
    with pytest.raises(crypto.DecryptionError, match="可能是未加密的旧数据"):
        User.objects.get(pk=user.pk)
    migration = importlib.import_module("yuexiu.core.migrations.0015_personal_numbers_sealed")
    migration.seal_existing_values(apps, None)
    stored_id, stored_phone, stored_digest = raw_row("core_user", user.pk, "id_number", "phone", "id_number_digest")
    assert stored_id.startswith("sm4gcm:v1:") and stored_phone.startswith("sm4gcm:v1:")
    assert stored_digest == crypto.digest(ID_NUMBER)
    assert User.objects.get(id_number_digest=crypto.digest(ID_NUMBER)).phone == PHONE


def test_every_personal_number_column_is_encrypted():
    found = {f"{model._meta.label}.{field.name}" for model, fields in crypto.encrypted_models(apps) for field in fields}
    assert found == {
        "cases.BundleCase.form_data",
        "cases.Case.applicant_id_number",
        "cases.Case.applicant_phone",
        "cases.Case.form_data",
        "core.OutboxMessage.phone",
        "core.User.id_number",
        "core.User.phone",
        "policies.Candidate.bank_account",
        "policies.Objection.objector_phone",
    }


def test_production_refuses_to_start_without_data_keys():
    env = {key: value for key, value in PRODUCTION_ENV.items() if not key.startswith("DATA_")}
    result = run_manage("check", extra_env=env)
    assert result.returncode != 0
    assert "DATA_ENCRYPTION_KEYS 必须由环境变量提供" in result.stderr
    assert "DATA_DIGEST_KEY 必须由环境变量提供" in result.stderr
    short = run_manage("check", extra_env={**PRODUCTION_ENV, "DATA_ENCRYPTION_KEYS": "1:c2hvcnQ="})
    assert "密钥版本 1 应为 16 字节（SM4），实为 5 字节" in short.stderr
