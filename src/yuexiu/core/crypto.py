"""Personal numbers encrypted at rest (商用密码, GB/T 39786-2021 8.3 d): model fields and the keys.

``EncryptedCharField`` stores ``sm4gcm:v<key version>:<base64>`` (``smcrypto.seal``) and gives the
plaintext back on read; it cannot be searched, ordered or compared in SQL except with ``""``/``None``
(an empty value is stored empty). Equality lookups and unique constraints go through a companion
``DigestField`` holding HMAC-SM3 of the plaintext (``digest``)::

    id_number = EncryptedCharField("身份证号", max_length=18, null=True, blank=True)
    id_number_digest = DigestField(source="id_number", unique=True)

    User.objects.filter(id_number_digest=crypto.digest(number))

Keys come from settings (``DATA_ENCRYPTION_KEYS``, ``DATA_ENCRYPTION_KEY_VERSION``,
``DATA_DIGEST_KEY``), read at call time; ``yuexiu rotate-keys`` re-seals old values under the
current version (``rotation``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.db.models.lookups import Exact, IsNull

from yuexiu.core import smcrypto
from yuexiu.core.smcrypto import DecryptionError

__all__ = [
    "DecryptionError",
    "DigestField",
    "EncryptedCharField",
    "EncryptedJSONField",
    "decrypt",
    "digest",
    "encrypt",
]


@lru_cache(maxsize=8)
def _parsed_keys(text: str) -> dict[int, bytes]:
    try:
        return smcrypto.parse_encryption_keys(text)
    except smcrypto.KeyFormatError as error:
        raise ImproperlyConfigured(f"DATA_ENCRYPTION_KEYS 无效：{error}") from error


@lru_cache(maxsize=8)
def _parsed_digest_key(text: str) -> bytes:
    try:
        return smcrypto.parse_digest_key(text)
    except smcrypto.KeyFormatError as error:
        raise ImproperlyConfigured(f"DATA_DIGEST_KEY 无效：{error}") from error


def encryption_keys() -> dict[int, bytes]:
    """``{version: 16-byte SM4 key}`` from ``settings.DATA_ENCRYPTION_KEYS``."""
    return _parsed_keys(settings.DATA_ENCRYPTION_KEYS)


def current_key_version() -> int:
    """The version new values are sealed under: ``DATA_ENCRYPTION_KEY_VERSION``, or the highest
    configured version when that is 0. Raises ``ImproperlyConfigured`` if it is not configured."""
    keys = encryption_keys()
    version = int(settings.DATA_ENCRYPTION_KEY_VERSION) or max(keys)
    if version not in keys:
        raise ImproperlyConfigured(f"DATA_ENCRYPTION_KEY_VERSION={version} 不在 DATA_ENCRYPTION_KEYS 中")
    return version


def encrypt(plaintext: str) -> str:
    """``plaintext`` sealed with SM4-GCM under the current key version."""
    version = current_key_version()
    return smcrypto.seal(plaintext, key=encryption_keys()[version], version=version)


def decrypt(value: str) -> str:
    """The plaintext of a sealed value under whichever configured key version sealed it. Raises
    ``DecryptionError`` with a Chinese message for a wrong key, an unknown version or altered data."""
    return smcrypto.open_sealed(value, keys=encryption_keys())


def digest(value: str | None) -> str | None:
    """HMAC-SM3 of ``value`` under ``DATA_DIGEST_KEY`` (64 hex characters); ``None`` for an empty value,
    so that empty values never collide in a unique digest column. Callers normalise first (a 身份证号
    through ``identity.normalise_id_number``)."""
    if not value:
        return None
    return smcrypto.hmac_sm3_hex(_parsed_digest_key(settings.DATA_DIGEST_KEY), value.encode("utf-8"))


class EncryptedFieldLookupError(TypeError):
    """A query compared an encrypted column with a plaintext value (it would silently match nothing)."""


class _EmptyOnlyExact(Exact):
    """``field=""`` (stored empty) is the one comparison an encrypted column supports."""

    def __init__(self, lhs: Any, rhs: Any) -> None:
        if rhs not in ("", None):
            raise EncryptedFieldLookupError(
                f"加密字段 {getattr(lhs.target, 'name', '?')} 不能按明文查询：请用对应的摘要字段（crypto.digest）"
            )
        super().__init__(lhs, rhs)


class EncryptedCharField(models.CharField):
    """A short text (身份证号, phone number, bank account) stored sealed with SM4-GCM.

    ``max_length`` limits the plaintext (form and model validation); the column is as wide as the
    longest sealed value (``smcrypto.sealed_length``). Empty strings and ``None`` are stored as
    they are. Reading a value that does not open raises ``DecryptionError``."""

    description = "SM4-GCM 加密文本"

    def db_type(self, connection: Any) -> str | None:
        if self.max_length is None:
            return super().db_type(connection)
        return models.CharField(max_length=smcrypto.sealed_length(self.max_length)).db_type(connection)

    def cast_db_type(self, connection: Any) -> str | None:
        return self.db_type(connection)

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_db_prep_save(self, value: Any, connection: Any) -> Any:
        value = self.get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "exact":
            return _EmptyOnlyExact
        if lookup_name == "isnull":
            return IsNull
        return None  # Django answers FieldError: unsupported lookup


class EncryptedJSONField(models.TextField):
    """A JSON document (an application form holding 身份证号, phone numbers and bank accounts typed
    into it) stored as one SM4-GCM sealed text. Read back as the Python value; no lookup into it is
    possible in SQL (``isnull`` only)."""

    description = "SM4-GCM 加密 JSON"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if value is None:
            return value
        return json.loads(decrypt(value))

    def to_python(self, value: Any) -> Any:
        return value

    def get_prep_value(self, value: Any) -> Any:
        return value

    def get_db_prep_save(self, value: Any, connection: Any) -> Any:
        if value is None:
            return None
        return encrypt(json.dumps(value, ensure_ascii=False, cls=DjangoJSONEncoder))

    def value_to_string(self, obj: models.Model) -> str:
        return json.dumps(self.value_from_object(obj), ensure_ascii=False, cls=DjangoJSONEncoder)

    def formfield(self, **kwargs: Any) -> Any:
        return forms.JSONField(**{"label": self.verbose_name, "required": not self.blank, **kwargs})

    def get_lookup(self, lookup_name: str) -> Any:
        return IsNull if lookup_name == "isnull" else None

    def get_transform(self, lookup_name: str) -> Any:
        return None


ENCRYPTED_FIELDS = (EncryptedCharField, EncryptedJSONField)


class DigestField(models.CharField):
    """HMAC-SM3 (hex) of another field of the same model (``source``), computed on every save, for
    equality lookups and unique constraints on an ``EncryptedCharField``. Models whose ``save`` may
    be called with ``update_fields`` add the digest with ``with_digest_fields``."""

    description = "HMAC-SM3 摘要"

    def __init__(self, *args: Any, source: str, **kwargs: Any) -> None:
        self.source = source
        kwargs.setdefault("max_length", smcrypto.DIGEST_HEX_LENGTH)
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        for key, default in (("max_length", smcrypto.DIGEST_HEX_LENGTH), ("null", True), ("blank", True)):
            if kwargs.get(key) == default:
                kwargs.pop(key)
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> str | None:
        value = digest(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value


def with_digest_fields(instance: models.Model, update_fields: Any) -> Any:
    """``update_fields`` with the digest of every source field in it added (``None`` stays ``None``):
    ``save(update_fields=["phone"])`` must also write ``phone_digest``."""
    if update_fields is None:
        return None
    names = set(update_fields)
    for field in instance._meta.concrete_fields:
        if isinstance(field, DigestField) and field.source in names:
            names.add(field.name)
    return names


# ---- sealing existing rows: the data migration and `yuexiu rotate-keys` ------------------------------


@dataclass(frozen=True)
class ResealCount:
    """What ``reseal_model`` did to one model: rows read, values sealed anew."""

    label: str
    rows: int
    resealed: int


def encrypted_models(registry: Any) -> list[tuple[type[models.Model], list[models.Field]]]:
    """Every concrete model of ``registry`` (``django.apps.apps`` or a migration's ``apps``) with its
    encrypted columns (``ENCRYPTED_FIELDS``), in label order."""
    found = []
    for model in registry.get_models():
        fields = [field for field in model._meta.concrete_fields if isinstance(field, ENCRYPTED_FIELDS)]
        if fields and not model._meta.proxy and model._meta.managed:
            found.append((model, fields))
    return sorted(found, key=lambda pair: pair[0]._meta.label)


def reseal_model(
    model: type[models.Model],
    fields: list[EncryptedCharField],
    *,
    batch_size: int = 500,
    plaintext_allowed: bool = False,
) -> ResealCount:
    """Seal every non-empty value of ``fields`` that is not yet sealed under the current key version
    (and refill its digest columns), ``batch_size`` rows per transaction, walking the primary key, so
    that an interrupted run keeps what it finished and a second run finds nothing left to do.

    ``plaintext_allowed`` (the migration from plain columns) seals values that are not sealed at all
    (a JSON column's text as it is);
    otherwise such a value raises ``DecryptionError``, as does a value no configured key opens. Reads
    and writes the columns with SQL so that no model code (``save``, signals) runs."""
    meta = model._meta
    quote = connection.ops.quote_name
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    digests = {
        field.source: field
        for field in meta.concrete_fields
        if isinstance(field, DigestField) and field.source in {item.name for item in fields}
    }
    columns = ", ".join(quote(field.column) for field in fields)
    version = current_key_version()
    rows = resealed = 0
    last: Any = None
    while True:
        with transaction.atomic():
            with connection.cursor() as cursor:
                where = "" if last is None else f" WHERE {pk} > %s"
                cursor.execute(
                    f"SELECT {pk}, {columns} FROM {table}{where} ORDER BY {pk} LIMIT %s",  # noqa: S608
                    ([] if last is None else [last]) + [batch_size],
                )
                batch = cursor.fetchall()
                for row in batch:
                    updates: dict[str, Any] = {}
                    for field, value in zip(fields, row[1:], strict=True):
                        if not value or (smcrypto.is_sealed(value) and smcrypto.sealed_version(value) == version):
                            continue
                        plaintext = value if plaintext_allowed and not smcrypto.is_sealed(value) else decrypt(value)
                        updates[field.column] = encrypt(plaintext)
                        if field.name in digests:
                            updates[digests[field.name].column] = digest(plaintext)
                    if updates:
                        assignments = ", ".join(f"{quote(column)} = %s" for column in updates)
                        cursor.execute(
                            f"UPDATE {table} SET {assignments} WHERE {pk} = %s",  # noqa: S608
                            [*updates.values(), row[0]],
                        )
                        resealed += len(updates) - sum(1 for name in digests if digests[name].column in updates)
        if not batch:
            break
        rows += len(batch)
        last = batch[-1][0]
    return ResealCount(label=meta.label, rows=rows, resealed=resealed)
