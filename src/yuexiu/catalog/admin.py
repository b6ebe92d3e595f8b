"""Catalogue records the system administrator maintains directly: items' identity, 全市通办 modes,
bundles and their items, and the shared-evidence table. Guide content is edited only through the
draft → review workflow (/workbench/guides/), so guide versions are read-only here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from yuexiu.catalog.models import (
    BundleItem,
    CitywideHandling,
    GuideCheckRun,
    GuideVersion,
    ServiceBundle,
    ServiceItem,
    SharedEvidence,
)
from yuexiu.core.admin import AuditedAdmin, SystemAdminInline


class CitywideHandlingInline(SystemAdminInline):
    model = CitywideHandling


@admin.register(ServiceItem)
class ServiceItemAdmin(AuditedAdmin):
    list_display = ["name", "implementation_code", "item_type", "organisation", "confidence", "is_active"]
    list_filter = ["item_type", "confidence", "is_active", "organisation"]
    search_fields = ["name", "base_code", "implementation_code"]
    raw_id_fields = ["organisation", "parent"]
    filter_horizontal = ["intake_organisations"]
    readonly_fields = ["current_version", "seed_key", "created_at", "updated_at"]
    inlines = [CitywideHandlingInline]


class BundleItemInline(SystemAdminInline):
    model = BundleItem
    raw_id_fields = ["item"]


@admin.register(ServiceBundle)
class ServiceBundleAdmin(AuditedAdmin):
    list_display = ["name", "event_kind", "lead_organisation", "promised_limit_days", "confidence", "is_active"]
    list_filter = ["event_kind", "confidence", "is_active"]
    search_fields = ["name"]
    raw_id_fields = ["lead_organisation"]
    readonly_fields = ["seed_key", "updated_at"]
    inlines = [BundleItemInline]


@admin.register(SharedEvidence)
class SharedEvidenceAdmin(AuditedAdmin):
    list_display = ["name", "kind", "issuer", "effective_from", "source_document", "confidence"]
    list_filter = ["kind"]
    search_fields = ["name", "source_document"]


class ReadOnlyAdmin(AuditedAdmin):
    """Viewable by the 系统管理员; written only by the catalogue's own services."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(GuideVersion)
class GuideVersionAdmin(ReadOnlyAdmin):
    list_display = ["item", "number", "status", "created_by", "published_at"]
    list_filter = ["status"]
    search_fields = ["item__name"]


@admin.register(GuideCheckRun)
class GuideCheckRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "finished_at", "triggered_by", "item_count", "finding_count"]
