from django.db import connection
from django.http import HttpResponseNotFound
from django.template.loader import render_to_string
from django_tenants.middleware.main import TenantMainMiddleware

from tenants.hosts import is_public, store_for_host


class StoreMiddleware(TenantMainMiddleware):
    """Selects the store's schema from the Host header, or answers 404.

    Differs from django-tenants' middleware in three ways: the host is normalised
    (tenants.hosts), the lookup is cached, and an unknown or deactivated store gets a
    plain page that sets no cookie (BR-04).
    """

    def process_request(self, request):
        connection.set_schema_to_public()
        # get_host() validates against ALLOWED_HOSTS (400 on a foreign host) and only
        # honours X-Forwarded-Host when USE_X_FORWARDED_HOST is set.
        store = store_for_host(request.get_host())
        if store is None:
            return HttpResponseNotFound(
                render_to_string("storefront/store_unknown.html", {"host": request.get_host()[:100]})
            )
        if not is_public(store) and not store.is_active:
            return HttpResponseNotFound(render_to_string("storefront/store_unavailable.html", {"store": store}))
        request.tenant = store
        connection.set_tenant(store)
        self.setup_url_routing(request)
        return None
