"""``yuexiu outbox``: the latest messages in the platform's outbox (SMS and inbox notices).

The embedded platform has no SMS gateway: messages stop in ``core.OutboxMessage``. This command is
how a person trying the demo reads the SMS a citizen would receive (a 找回密码 code, a rating link).

yuexiu outbox                      # the 10 latest messages
yuexiu outbox --phone 13800138000  # those to one phone
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from yuexiu.core import crypto
from yuexiu.core.models import OutboxMessage


class Command(BaseCommand):
    help = "查看平台发件箱中的最新消息（嵌入式环境的短信不经网关发送，写在这里）"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--phone", default="", help="只看发往该手机号的消息")
        parser.add_argument("--limit", type=int, default=10, help="条数，默认 10")

    def handle(self, *args: Any, phone: str, limit: int, **options: Any) -> None:
        messages = OutboxMessage.objects.order_by("-created_at", "-id")
        if phone:
            messages = messages.filter(phone_digest=crypto.digest(phone.strip()))
        rows = list(messages[: max(1, min(limit, 100))])
        if not rows:
            self.stdout.write("发件箱中没有消息。")
        for message in rows:
            when = timezone.localtime(message.created_at).strftime("%Y-%m-%d %H:%M:%S")
            self.stdout.write(f"{when}  {message.phone or '-'}  {message.subject}\n  {message.body}")
