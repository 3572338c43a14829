"""The store owner's admin, on each store host. Owners are recognised from the
identity token (tenants.oidc); this site lists only the store's own models."""

from urllib.parse import urlencode

from django.contrib import admin
from django.http import HttpResponseForbidden, HttpResponseRedirect
from django.template.loader import render_to_string
from mozilla_django_oidc.views import OIDCLogoutView

from storefront.models import Order, OrderItem, ReturnPolicy


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
        return OIDCLogoutView.as_view()(request)


store_admin_site = StoreAdminSite(name="store_admin")


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0


@admin.register(ReturnPolicy, site=store_admin_site)
class ReturnPolicyAdmin(admin.ModelAdmin):
    list_display = ("days", "updated_at", "updated_by")
    readonly_fields = ("updated_at", "updated_by")

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not ReturnPolicy.objects.exists()

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user.first_name or request.user.username
        super().save_model(request, obj, form, change)


@admin.register(Order, site=store_admin_site)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("number", "shopper_sub", "placed_at", "status", "total", "currency")
    list_filter = ("status",)
    search_fields = ("=number", "shopper_sub")
    inlines = [OrderItemInline]
