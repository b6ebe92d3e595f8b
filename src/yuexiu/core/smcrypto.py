"""商用密码 primitives without Django: SM4-GCM sealing of short texts, SM3 digests and HMAC-SM3.

GB/T 39786-2021 (信息安全技术 信息系统密码应用基本要求) asks a level-3 system to protect the
confidentiality of important data at rest (8.3 d) and the integrity of audit records (8.3 c, 8.4 c)
with commercial cryptography: SM4 (GB/T 32907-2016) for encryption, SM3 (GB/T 32905-2016) for
digests and keyed digests. The algorithms come from ``cryptography`` (OpenSSL); this module only
fixes the formats:

- a sealed value is ``sm4gcm:v<version>:<base64(nonce 12 bytes | ciphertext | tag 16 bytes)>``, so
  every value says which key sealed it and keys can rotate while old values stay readable;
- a keyed digest is HMAC-SM3 in lower-case hex (64 characters), for equality lookups and unique
  constraints on sealed values;
- keys are configured as ``"1:<base64 of 16 bytes>,2:<base64>"``.
"""

from __future__ import annotations

import base64
import binascii
import hmac as std_hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

PREFIX = "sm4gcm"
NONCE_BYTES = 12
TAG_BYTES = 16
SM4_KEY_BYTES = 16
DIGEST_KEY_MIN_BYTES = 32
DIGEST_HEX_LENGTH = 64


class KeyFormatError(ValueError):
    """A key setting that cannot be used; the message says which and why, in Chinese."""


class DecryptionError(ValueError):
    """A sealed value that cannot be opened with the configured keys (wrong key, unknown key
    version, damaged or altered value, or a value that was never sealed)."""


def parse_encryption_keys(text: str) -> dict[int, bytes]:
    """``"1:<base64>,2:<base64>"`` as ``{1: key, 2: key}``; each key is 16 bytes (SM4).

    Raises ``KeyFormatError`` on an empty setting, a version that is not a positive integer, a
    version given twice, a value that is not base64 or a key of the wrong length."""
    keys: dict[int, bytes] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        version_text, separator, encoded = item.partition(":")
        if not separator or not version_text.strip().isdigit() or int(version_text) < 1:
            raise KeyFormatError(f"密钥项 {version_text.strip()[:8]!r} 格式应为 版本号:Base64 密钥，版本号为正整数")
        version = int(version_text)
        if version in keys:
            raise KeyFormatError(f"密钥版本 {version} 重复")
        key = _base64(encoded.strip(), what=f"密钥版本 {version}")
        if len(key) != SM4_KEY_BYTES:
            raise KeyFormatError(f"密钥版本 {version} 应为 {SM4_KEY_BYTES} 字节（SM4），实为 {len(key)} 字节")
        keys[version] = key
    if not keys:
        raise KeyFormatError("未配置任何数据加密密钥")
    return keys


def parse_digest_key(text: str) -> bytes:
    """The HMAC-SM3 key from its base64 text: at least 32 bytes. Raises ``KeyFormatError``."""
    key = _base64(text.strip(), what="摘要密钥")
    if len(key) < DIGEST_KEY_MIN_BYTES:
        raise KeyFormatError(f"摘要密钥应不少于 {DIGEST_KEY_MIN_BYTES} 字节，实为 {len(key)} 字节")
    return key


def new_encryption_key_text(version: int = 1) -> str:
    """A fresh ``"<version>:<base64 16 random bytes>"`` key item."""
    return f"{version}:{base64.b64encode(os.urandom(SM4_KEY_BYTES)).decode('ascii')}"


def new_digest_key_text() -> str:
    """A fresh base64 digest key of 32 random bytes."""
    return base64.b64encode(os.urandom(DIGEST_KEY_MIN_BYTES)).decode("ascii")


def seal(plaintext: str, *, key: bytes, version: int) -> str:
    """``plaintext`` sealed with SM4-GCM under ``key`` (a fresh random nonce each time), as
    ``sm4gcm:v<version>:<base64>``."""
    nonce = os.urandom(NONCE_BYTES)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    ciphertext = encryptor.update(plaintext.encode("utf-8")) + encryptor.finalize()
    body = base64.b64encode(nonce + ciphertext + encryptor.tag).decode("ascii")
    return f"{PREFIX}:v{version}:{body}"


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX + ":v")


def sealed_version(value: str) -> int:
    """The key version a sealed value names. Raises ``DecryptionError`` for a value that is not sealed."""
    prefix, _, rest = value.partition(":")
    version_text, separator, _ = rest.partition(":")
    if prefix != PREFIX or not separator or not version_text.startswith("v") or not version_text[1:].isdigit():
        raise DecryptionError(
            "该值不是 SM4 密文（应以 sm4gcm:v<版本>: 开头），可能是未加密的旧数据：请先执行数据库迁移"
        )
    return int(version_text[1:])


def open_sealed(value: str, *, keys: dict[int, bytes]) -> str:
    """The plaintext of a sealed value, with the key of the version it names.

    Raises ``DecryptionError`` (with a Chinese message) when the value is not sealed, names a key
    version that is not configured, or does not authenticate under that key (a wrong key, or a value
    that was altered): never returns garbage."""
    version = sealed_version(value)
    key = keys.get(version)
    if key is None:
        raise DecryptionError(f"密文使用密钥版本 {version}，但该版本未配置（DATA_ENCRYPTION_KEYS）")
    try:
        raw = base64.b64decode(value.split(":", 2)[2], validate=True)
    except (binascii.Error, ValueError) as error:
        raise DecryptionError("密文已损坏（Base64 无效）") from error
    if len(raw) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("密文已损坏（长度不足）")
    nonce, ciphertext, tag = raw[:NONCE_BYTES], raw[NONCE_BYTES:-TAG_BYTES], raw[-TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    try:
        plaintext = decryptor.update(ciphertext) + decryptor.finalize()
    except InvalidTag as error:
        raise DecryptionError(f"密文无法用密钥版本 {version} 解开：密钥与加密时不同，或密文被改动") from error
    return plaintext.decode("utf-8")


def sealed_length(plaintext_characters: int) -> int:
    """The longest sealed value of a text of up to ``plaintext_characters`` characters (4 bytes each
    in UTF-8 at most, key versions up to 99999): the column width to give a sealed field."""
    raw = NONCE_BYTES + 4 * plaintext_characters + TAG_BYTES
    return len(PREFIX) + len(":v99999:") + 4 * ((raw + 2) // 3)


def sm3_hex(data: bytes) -> str:
    """The SM3 digest (GB/T 32905-2016) of ``data`` in lower-case hex (64 characters)."""
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


def hmac_sm3_hex(key: bytes, data: bytes) -> str:
    """HMAC-SM3 of ``data`` under ``key`` in lower-case hex (64 characters)."""
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize().hex()


def same_digest(left: str, right: str) -> bool:
    """Constant-time comparison of two hex digests."""
    return std_hmac.compare_digest(left.encode("ascii"), right.encode("ascii"))


def _base64(text: str, *, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise KeyFormatError(f"{what} 不是有效的 Base64 文本") from error
