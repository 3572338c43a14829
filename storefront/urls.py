"""URLs of a store host (tenant schemas)."""

from django.urls import include, path

from assistant import views as assistant_views
from storefront import views
from storefront.admin import store_admin_site
from tenants.oidc import StoreLogoutView

urlpatterns = [
    path("", views.store_home, name="store_home"),
    path("policy/", views.policy_page, name="policy"),
    path("signin-failed/", views.signin_failed, name="signin_failed"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon),
    # Sign-out also tells the apps (the assistant closes the shopper's sockets).
    path("oidc/logout/", StoreLogoutView.as_view(), name="oidc_logout"),
    path("oidc/", include("mozilla_django_oidc.urls")),
    path("admin/", store_admin_site.urls),
    # The assistant's own pages (project wiring).
    path("assistant/conversations/", assistant_views.conversation_list, name="conversation_list"),
    path(
        "assistant/conversations/<uuid:conversation_id>/",
        assistant_views.conversation_detail,
        name="conversation_detail",
    ),
]
