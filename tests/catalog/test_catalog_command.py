"""``yuexiu catalog``: the guide checks, export and import from the command line."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from yuexiu.catalog.models import GuideCheckRun


def test_the_check_command_prints_each_finding_with_its_rule(catalogue):
    out = StringIO()
    call_command("catalog", "check", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "检查 38 个事项，发现问题 587 条"
    assert "广州市越秀区市场监督管理局\t个体工商户设立登记\t可由共享数据或电子证照替代的材料仍要求提交\t" in "\n".join(
        lines
    )
    assert GuideCheckRun.objects.count() == 1


def test_an_exported_csv_imports_back_unchanged_and_an_editor_may_not_import(catalogue, tmp_path):
    path = tmp_path / "catalogue.csv"
    call_command("catalog", "export", str(path), "--format", "csv", stdout=StringIO())
    out = StringIO()
    call_command("catalog", "import", str(path), "--as", "reviewer_zsj", stdout=out)
    assert out.getvalue().strip() == "新增 0，更新 0，未变 38"
    with pytest.raises(CommandError, match="只有办事指南审核人员"):
        call_command("catalog", "import", str(path), "--as", "editor_scj", stdout=StringIO())
