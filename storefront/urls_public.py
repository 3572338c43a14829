"""URLs of the public site (operators): the stores' admin, nothing of any store."""

from django.contrib import admin
from django.urls import path

from storefront import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon),
    path("admin/", admin.site.urls),
]
