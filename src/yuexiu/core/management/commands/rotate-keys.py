"""``yuexiu rotate-keys``: re-seal every encrypted personal number under the current key version.

Set the new key beside the old ones (``DATA_ENCRYPTION_KEYS="1:<old>,2:<new>"``), make it current
(``DATA_ENCRYPTION_KEY_VERSION=2``), restart, then run this command; once it reports nothing left
under older versions, the old key can be removed. Batches commit one by one: an interrupted run is
resumed by running it again, and a second run changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand

from yuexiu.core import crypto


class Command(BaseCommand):
    help = "用当前密钥版本重新加密全部个人敏感信息（身份证号、手机号、银行账号），可中断后重跑"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help="每个事务处理的行数，默认 500")

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        version = crypto.current_key_version()
        self.stdout.write(f"当前密钥版本：{version}")
        total = 0
        for model, fields in crypto.encrypted_models(apps):
            count = crypto.reseal_model(model, fields, batch_size=max(1, batch_size))
            total += count.resealed
            names = "、".join(str(field.verbose_name) for field in fields)
            self.stdout.write(
                f"{model._meta.verbose_name}（{names}）：检查 {count.rows} 行，重新加密 {count.resealed} 个值"
            )
        self.stdout.write(f"完成：共重新加密 {total} 个值，全部密文均已使用密钥版本 {version}。")
