"""Password rules for GB/T 22239-2019 level 3 (身份鉴别: 口令具有复杂度要求)."""

from __future__ import annotations

import string

from django.contrib.auth.password_validation import MinimumLengthValidator
from django.core.exceptions import ValidationError


class ChineseMinimumLengthValidator(MinimumLengthValidator):
    """Django's length rule with a Chinese message (its zh-hans catalogue lacks this plural form)."""

    def get_error_message(self) -> str:
        return f"密码太短：至少需要 {self.min_length} 个字符。"

    def get_help_text(self) -> str:
        return f"密码至少需要 {self.min_length} 个字符。"


class CharacterClassValidator:
    """Require characters from at least ``min_classes`` of: upper case, lower case, digits, symbols."""

    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def validate(self, password: str, user: object = None) -> None:
        classes = [
            any(char in string.ascii_uppercase for char in password),
            any(char in string.ascii_lowercase for char in password),
            any(char in string.digits for char in password),
            any(not char.isalnum() for char in password),
        ]
        if sum(classes) < self.min_classes:
            raise ValidationError(
                "密码太简单：须同时包含大写字母、小写字母、数字、符号中的至少 %(count)d 类。",
                code="password_too_simple",
                params={"count": self.min_classes},
            )

    def get_help_text(self) -> str:
        return f"密码须包含大写字母、小写字母、数字、符号中的至少 {self.min_classes} 类。"
