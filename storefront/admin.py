"""The store owner's admin, on each store host. Owners are recognised from the
identity token (tenants.oidc); this site lists only the store's own models."""

from urllib.parse import urlencode

from django.contrib import admin
from django.http import HttpResponseForbidden, HttpResponseRedirect
from django.template.loader import render_to_string

from storefront.models import Order, OrderItem, ReturnPolicy, ReturnPolicyVersion
from storefront.services import policy_set
from tenants.context import context_for_request
from tenants.oidc import StoreLogoutView


class StoreAdminSite(admin.AdminSite):
    site_header = "Store administration"
    site_title = "Store admin"
    index_title = "Your store"

    def each_context(self, request):
        context = super().each_context(request)
        store = getattr(request, "tenant", None)
        if store is not None:
            context["site_header"] = f"{store.name} — administration"
        return context

    def login(self, request, extra_context=None):
        if request.user.is_authenticated:
            return HttpResponseForbidden(render_to_string("storefront/not_owner.html", request=request))
        next_path = request.GET.get("next") or "/admin/"
        return HttpResponseRedirect("/oidc/authenticate/?" + urlencode({"next": next_path}))

    def logout(self, request, extra_context=None):
        return StoreLogoutView.as_view()(request)


store_admin_site = StoreAdminSite(name="store_admin")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Owners may look, never add, change or delete (histories and audit logs)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0


@admin.register(ReturnPolicy, site=store_admin_site)
class ReturnPolicyAdmin(admin.ModelAdmin):
    list_display = ("days", "updated_at", "updated_by")
    readonly_fields = ("updated_at", "updated_by")

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not ReturnPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # Through the service, so every change is kept in the version history.
        saved = policy_set(
            ctx=context_for_request(request),
            days=form.cleaned_data["days"],
            text=form.cleaned_data["text"],
            updated_by=request.user.first_name or request.user.username,
        )
        obj.pk, obj.updated_at, obj.updated_by = saved.pk, saved.updated_at, saved.updated_by


@admin.register(ReturnPolicyVersion, site=store_admin_site)
class ReturnPolicyVersionAdmin(ReadOnlyAdmin):
    """The policy's history."""

    list_display = ("changed_at", "days", "changed_by", "text")
    readonly_fields = ("changed_at", "days", "changed_by", "text")


@admin.register(Order, site=store_admin_site)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("number", "shopper_sub", "placed_at", "status", "total", "currency")
    list_filter = ("status",)
    search_fields = ("=number", "shopper_sub")
    inlines = [OrderItemInline]
