from __future__ import annotations

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "yuexiu.catalog"
    label = "catalog"
    verbose_name = "政务服务事项目录"
