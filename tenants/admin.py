"""Operators' admin on the public site: stores and their domains."""

from django.contrib import admin

from tenants.models import Domain, Store


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ("tenant_id", "name", "schema_name", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("tenant_id", "name")
    inlines = [DomainInline]

    def get_readonly_fields(self, request, obj=None):
        return ("tenant_id", "schema_name", "created_at") if obj else ("created_at",)

    def has_delete_permission(self, request, obj=None):
        # Deleting a store drops its schema: done by an operator command, not a click.
        return False
