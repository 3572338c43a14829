"""URLs of a store host (tenant schemas)."""

from django.urls import include, path

from storefront import views
from storefront.admin import store_admin_site

urlpatterns = [
    path("", views.store_home, name="store_home"),
    path("policy/", views.policy_page, name="policy"),
    path("signin-failed/", views.signin_failed, name="signin_failed"),
    path("healthz", views.healthz, name="healthz"),
    path("oidc/", include("mozilla_django_oidc.urls")),
    path("admin/", store_admin_site.urls),
]
