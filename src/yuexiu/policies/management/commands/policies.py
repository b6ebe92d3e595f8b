"""yuexiu policies test                 # run every rule test (both evaluations); exit 1 on a failure
yuexiu policies check FILE.yaml        # check one rule file: every problem with its line
yuexiu policies generate 100000        # add N synthetic enterprises (marked 模拟)
yuexiu policies match --period 2026    # run a matching run now, in this process
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from yuexiu.policies import services
from yuexiu.policies.engine import testing
from yuexiu.policies.engine.rules import RuleFileError, load_rule_file


class Command(BaseCommand):
    help = "政策兑现：规则测试、规则检查、生成模拟企业库、匹配"

    def add_arguments(self, parser) -> None:  # type: ignore[no-untyped-def]
        sub = parser.add_subparsers(dest="action", required=True)
        test = sub.add_parser("test", help="运行规则测试（YAML 用例）")
        test.add_argument("--rules", default=str(services.RULES_DIR))
        test.add_argument("--tests", default=str(services.TESTS_DIR))
        check = sub.add_parser("check", help="检查规则文件")
        check.add_argument("file")
        generate = sub.add_parser("generate", help="生成模拟企业")
        generate.add_argument("count", type=int)
        generate.add_argument("--seed", type=int, default=2024)
        match = sub.add_parser("match", help="立即匹配")
        match.add_argument("--period", type=int, default=None)
        match.add_argument("--as-of", default=None)
        match.add_argument("--user", default="policy_kgsxj")

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        action = options["action"]
        if action == "test":
            try:
                library = testing.load_library(Path(options["rules"]))
            except RuleFileError as error:
                raise CommandError(str(error)) from None
            results = testing.run_tests(Path(options["tests"]), library)
            failed = [r for r in results if not r.passed]
            for r in failed:
                self.stdout.write(f"✗ {r.source}:{r.line} {r.name}：{'；'.join(r.problems)}")
            items = sum(len(p.items) for p in library)
            self.stdout.write(
                f"{len(library)} 个政策文件，{items} 个事项；{len(results)} 个用例，通过 {len(results) - len(failed)}，失败 {len(failed)}"  # noqa: E501
            )
            if failed or not results:
                raise CommandError("规则测试未通过" if failed else "没有找到规则测试")
        elif action == "check":
            path = Path(options["file"])
            try:
                rules = load_rule_file(path.read_text(encoding="utf-8"), path.name)
            except (OSError, UnicodeDecodeError):
                raise CommandError(f"无法读取 {path}：文件不存在或不是 UTF-8 文本") from None
            except RuleFileError as error:
                raise CommandError("\n".join(services.iter_rule_problems(error))) from None
            self.stdout.write(f"{path.name}：通过，{len(rules.items)} 个事项")
        elif action == "generate":
            if not 1 <= options["count"] <= 10_000_000:
                raise CommandError("数量应在 1 到 10,000,000 之间")
            created = services.generate_registry(options["count"], seed=options["seed"])
            self.stdout.write(f"新增模拟企业 {created} 家")
        elif action == "match":
            from yuexiu.core.errors import DomainError
            from yuexiu.core.models import User

            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"找不到用户 {options['user']}")
            try:
                as_of = date.fromisoformat(options["as_of"]) if options["as_of"] else timezone.localdate()
                run = services.create_run(user=user, period=options["period"] or as_of.year, as_of=as_of)
            except ValueError:
                raise CommandError("--as-of 应为日期，如 2026-06-30") from None
            except DomainError as error:
                raise CommandError(error.message) from None
            run = services.execute_run(run.pk)
            demonstration = sum(row["pairs"] for row in run.by_item.values() if row.get("illustration"))
            self.stdout.write(
                f"批次 {run.pk}：{run.get_status_display()}；{run.enterprises} 家企业，{run.pairs} 对，"
                f"线索 {run.leads}（须认定），新增候选 {run.candidates}，引擎 {run.engine_seconds} 秒 {run.error}"
                f"；示例演示 {demonstration} 对（示例条款，不生成候选、不可兑现）"
            )
