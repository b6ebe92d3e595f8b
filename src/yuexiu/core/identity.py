"""Checks and masks for personal and enterprise identifiers.

- 身份证号: GB 11643-1999 (check digit ISO 7064 MOD 11-2), checked with python-stdnum ``cn.ric``.
- 统一社会信用代码: GB 32100-2015 (check character mod 31), checked with python-stdnum ``cn.uscc``.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from django.core.exceptions import ValidationError
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumValidationError

MOBILE_PATTERN = re.compile(r"^1[3-9]\d{9}$")


def username_key(username: str) -> str:
    """The form of a username that decides whether two names are the same: compatibility-normalised
    and case-folded (Unicode NFKC_Casefold, UAX #31 §5), so ``ｃｉｔｉｚｅｎ_demo``, ``Citizen_Demo``
    and ``citizen_demo`` are one name. Used for uniqueness, for login and for the lockout count."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold())


def normalise_id_number(value: str) -> str:
    """Return the 18-character 身份证号 in canonical form (upper-case X).

    Raises django ``ValidationError`` with a Chinese message when the number is malformed, has an
    impossible birth date or a wrong check digit.
    """
    try:
        number = ric.validate(value.strip())
    except StdnumValidationError as error:
        raise ValidationError("身份证号码无效：请检查是否为 18 位且校验位正确。", code="invalid_id_number") from error
    if ric.get_birth_date(number) > date.today():
        raise ValidationError("身份证号码无效：出生日期晚于今天。", code="invalid_id_number")
    return number


def validate_id_number(value: str) -> None:
    if value:
        normalise_id_number(value)


def id_number_sex(number: str) -> str:
    """``"male"`` or ``"female"`` from a valid 18-character 身份证号: the 17th digit (顺序码) is odd for
    men and even for women (GB 11643-1999 §4.3)."""
    return "male" if int(number[16]) % 2 else "female"


def normalise_uscc(value: str) -> str:
    """Return the 18-character 统一社会信用代码 (GB 32100-2015) in canonical form.

    Raises django ``ValidationError`` with a Chinese message on a bad length, character or check code.
    """
    try:
        return uscc.validate(value.strip())
    except StdnumValidationError as error:
        raise ValidationError(
            "统一社会信用代码无效：应为 18 位，且末位校验码正确（GB 32100-2015）。", code="invalid_uscc"
        ) from error


def validate_uscc(value: str) -> None:
    if value:
        normalise_uscc(value)


def validate_mobile(value: str) -> None:
    if value and not MOBILE_PATTERN.match(value):
        raise ValidationError("手机号码无效：应为 11 位中国大陆手机号。", code="invalid_mobile")


def mask_id_number(value: str) -> str:
    """``440104199001011234`` -> ``440104********1234``: region kept, birth date hidden."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    """``13812345678`` -> ``138****5678``."""
    if not value:
        return ""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
