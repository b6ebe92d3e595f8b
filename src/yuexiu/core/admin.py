"""The system administrator's console (Django admin). Every change made here is audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse

from yuexiu.core import audit, passwords, selectors, services
from yuexiu.core.models import (
    HolidayDay,
    HolidayYear,
    Organisation,
    Role,
    RoleAssignment,
    RuleParameter,
    User,
)

admin.site.site_header = "数字越秀 · 系统管理"
admin.site.site_title = "数字越秀系统管理"
admin.site.index_title = "系统管理"


def is_system_admin(request: HttpRequest) -> bool:
    """The admin console belongs to the 系统管理员 role (三员分立), not to Django's model permissions."""
    return services.has_role(request.user, Role.SYSTEM_ADMIN)  # type: ignore[arg-type]  # admin requires login


class AuditedAdmin(admin.ModelAdmin):
    """Open to the 系统管理员 only; writes an audit event for every save and delete made here."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_system_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_system_admin(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return is_system_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_system_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_system_admin(request)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        changes = {name: str(form.cleaned_data.get(name)) for name in form.changed_data}
        action = f"{obj._meta.model_name}.{'updated' if change else 'created'}"
        audit.record_event(action=action, actor=request.user, target=obj, changes=changes, message="系统管理后台")

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        audit.record_event(
            action=f"{obj._meta.model_name}.deleted", actor=request.user, target=obj, message="系统管理后台"
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """Inline rows are audited like the object they belong to."""
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            audit.record_event(
                action=f"{obj._meta.model_name}.created", actor=request.user, target=obj, message="系统管理后台"
            )
        for obj, changed in formset.changed_objects:
            audit.record_event(
                action=f"{obj._meta.model_name}.updated",
                actor=request.user,
                target=obj,
                changes={"fields": changed},
                message="系统管理后台",
            )
        for obj in formset.deleted_objects:
            audit.record_event(
                action=f"{obj._meta.model_name}.deleted", actor=request.user, target=obj, message="系统管理后台"
            )


class SystemAdminInline(admin.TabularInline):
    """An inline table under an ``AuditedAdmin`` page: same 系统管理员 rule (its rows are audited by the page)."""

    extra = 0

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_system_admin(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_system_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_system_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_system_admin(request)


@admin.register(Organisation)
class OrganisationAdmin(AuditedAdmin):
    list_display = ["code", "name", "kind", "parent", "sort_order", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name", "short_name"]
    raw_id_fields = ["parent"]


class HolidayDayInline(SystemAdminInline):
    model = HolidayDay


@admin.register(HolidayYear)
class HolidayYearAdmin(AuditedAdmin):
    list_display = ["year", "status", "notice_number", "imported_from", "updated_at"]
    inlines = [HolidayDayInline]


@admin.register(RuleParameter)
class RuleParameterAdmin(AuditedAdmin):
    list_display = ["key", "effective_from", "effective_to", "value", "unit", "source_document"]
    search_fields = ["key", "source_document"]


class RoleAssignmentFormSet(BaseInlineFormSet):
    """The roles of one account on its admin page. Every change is checked by the same rules as the
    services that apply it (``services.role_change_problem``: 三员分立, nobody changes their own
    roles, an administrator's roles are the 安全管理员's), so the form says in Chinese why nothing
    was saved; ``UserAdmin.save_formset`` then applies the changes through ``grant_role`` and
    ``revoke_role``."""

    request: HttpRequest | None = None  # set by ``RoleAssignmentInline.get_formset``

    def clean(self) -> None:
        super().clean()
        if any(self.errors) or self.request is None:
            return
        actor = self.request.user
        user = self.instance
        held = list(RoleAssignment.objects.filter(user=user).values_list("role", flat=True)) if user.pk else []
        granted: list[str] = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data:
                continue
            existing = form.instance.pk is not None
            removed = existing and (data.get("DELETE") or form.has_changed())
            if removed:
                before = form.initial.get("role", form.instance.role)
                self._refuse_if(
                    services.role_change_problem(actor=actor, user=user, role=before, held=held, revoking=True)
                )
                if before in held:
                    held.remove(before)
            if not data.get("DELETE") and (not existing or form.has_changed()) and data.get("role"):
                granted.append(data["role"])
        for role in granted:
            self._refuse_if(services.role_change_problem(actor=actor, user=user, role=role, held=held))
            held.append(role)

    @staticmethod
    def _refuse_if(problem: Exception | None) -> None:
        if problem is not None:
            raise ValidationError(str(getattr(problem, "message", problem)))


class RoleAssignmentInline(SystemAdminInline):
    model = RoleAssignment
    formset = RoleAssignmentFormSet
    fk_name = "user"
    fields = ["role", "organisation"]
    raw_id_fields = ["organisation"]

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        return type(formset.__name__, (formset,), {"request": request})


@admin.register(User)
class UserAdmin(DjangoUserAdmin, AuditedAdmin):
    list_display = ["username", "full_name", "account_type", "organisation", "is_active"]
    list_filter = ["account_type", "is_active"]
    search_fields = ["username", "full_name", "enterprise_uscc"]
    inlines = [RoleAssignmentInline]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (
            "身份",
            {
                "fields": (
                    "account_type",
                    "full_name",
                    "organisation",
                    "enterprise_uscc",
                    "enterprise_name",
                    "enterprise_verified",
                )
            },
        ),
        ("状态", {"fields": ("is_active", "is_staff", "last_login", "date_joined")}),
    )
    readonly_fields = ["last_login", "date_joined", "is_staff"]
    add_fieldsets = (
        (None, {"fields": ("username", "password1", "password2", "account_type", "full_name", "organisation")}),
    )

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        """Setting another person's password lets one sign in as them: the console refuses it for an
        administrator's account (三员分立: the system administrator would take over the security or
        audit administrator), and for everyone else it is audited and the owner is told by SMS."""
        target = self.get_object(request, unquote(id))
        if target is not None and target.pk != request.user.pk and selectors.is_administrator(target):
            raise PermissionDenied("管理员账号的密码只能由本人修改，或由本人通过短信验证码找回（三员分立）。")
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302 and target is not None:
            passwords.record_password_set_by_administrator(user=target, actor=request.user)  # type: ignore[arg-type]
        return response

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """Role changes go through ``services.grant_role`` and ``revoke_role``, like every other path
        (they audit each grant and revocation); the form has checked them already."""
        if formset.model is not RoleAssignment:
            super().save_formset(request, form, formset, change)
            return
        user = form.instance
        actor = request.user
        formset.save(commit=False)
        for deleted in formset.deleted_objects:
            services.revoke_role(assignment=deleted, revoked_by=actor)  # type: ignore[arg-type]  # admin requires login
        for changed, _ in formset.changed_objects:
            services.revoke_role(assignment=RoleAssignment.objects.get(pk=changed.pk), revoked_by=actor)  # type: ignore[arg-type]
            services.grant_role(user=user, role=changed.role, organisation=changed.organisation, granted_by=actor)  # type: ignore[arg-type]
        for new in formset.new_objects:
            services.grant_role(user=user, role=new.role, organisation=new.organisation, granted_by=actor)  # type: ignore[arg-type]
        formset.save_m2m()
