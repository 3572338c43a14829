from django.contrib import admin

from assistant.models import ToolCall
from storefront.admin import ReadOnlyAdmin, store_admin_site


@admin.register(ToolCall, site=store_admin_site)
class ToolCallAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "tool", "shopper_sub", "outcome", "result_size", "duration_ms")
    list_filter = ("tool", "outcome")
    search_fields = ("shopper_sub",)
    readonly_fields = [f.name for f in ToolCall._meta.fields]
