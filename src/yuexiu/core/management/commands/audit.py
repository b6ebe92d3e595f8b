"""``yuexiu audit verify`` checks the audit log's SM3 hash chain; ``yuexiu audit link`` links what is
queued (the worker does this every minute and after each commit)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from yuexiu.core import audit_chain

SHOWN_PROBLEMS = 50
KIND_LABELS = {
    "altered": "内容被改动",
    "deleted": "条目被删除",
    "gap": "链接缺失",
    "reordered": "顺序被调换",
    "unlinked": "长期未链接",
    "lost_before_link": "链接前被删除",
    "head_mismatch": "链头不符",
}


def _head(text: str) -> tuple[int, str]:
    seq, _, digest = text.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise CommandError("--expected-head 的格式应为 序号:64位链摘要，例如 1024:9f3a…")
    return int(seq), digest.lower()


class Command(BaseCommand):
    help = "审计日志哈希链（SM3）：verify 校验全部条目并输出链头，link 立即链接待链接的条目"

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="subcommand", required=True)
        verify = actions.add_parser("verify", help="校验哈希链，发现改动、删除、调换或长期未链接的条目时以非零状态退出")
        verify.add_argument(
            "--expected-head", type=_head, default=None, help="此前在系统外记录的链头（序号:链摘要），核对它仍在链中"
        )
        actions.add_parser("link", help="把已提交但尚未链接的审计日志链接进哈希链")

    def handle(self, *args: Any, subcommand: str, **options: Any) -> None:
        if subcommand == "link":
            self.stdout.write(f"已链接 {audit_chain.link_pending_events()} 条审计日志。")
            return
        report = audit_chain.verify_chain(expected_head=options.get("expected_head"))
        checkpoint_seq, checkpoint_digest = report.checkpoint
        self.stdout.write("审计日志哈希链校验（SM3）")
        if checkpoint_seq:
            self.stdout.write(
                f"起点：检查点第 {checkpoint_seq} 条（此前条目已按保存期清理并归档），链摘要 {checkpoint_digest}"
            )
        self.stdout.write(
            f"已校验链接 {report.links} 条，其中保存期满已清理 {report.purged} 条；"
            f"尚在等待链接的新条目 {report.pending} 条。"
        )
        if report.expected_head_folded:
            self.stdout.write("所给链头早于检查点，已折叠进检查点：请用归档文件中的链摘要核对。")
        seq, digest = report.head
        when = timezone.localtime().strftime("%Y-%m-%d %H:%M:%S")
        self.stdout.write(
            f"链头：第 {seq} 条 {seq}:{digest}（{when}；请把链头记录在系统之外，日后用 --expected-head 核对）"
        )
        if report.valid:
            self.stdout.write("结论：哈希链完整，未发现改动、删除或调换的条目。")
            return
        self.stdout.write(f"发现 {len(report.problems)} 处问题：")
        for problem in report.problems[:SHOWN_PROBLEMS]:
            self.stdout.write(f"  - {problem.message}")
        if len(report.problems) > SHOWN_PROBLEMS:
            counts = Counter(KIND_LABELS.get(problem.kind, problem.kind) for problem in report.problems)
            summary = "，".join(f"{label} {count} 处" for label, count in counts.items())
            self.stdout.write(f"  …… 另有 {len(report.problems) - SHOWN_PROBLEMS} 处未列出（合计：{summary}）")
        if any(problem.kind == "unlinked" for problem in report.problems):
            self.stdout.write(
                "未进入哈希链的条目可先运行 yuexiu audit link 链接（后台任务每分钟自动执行），再重新校验。"
            )
        raise CommandError(f"审计日志哈希链校验未通过：发现 {len(report.problems)} 处问题")
