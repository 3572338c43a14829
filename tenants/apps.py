from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_store_role(sender, using, **kwargs):
    """After a store schema is migrated, its role's grants follow the new tables."""
    if sender.label != "tenants":
        return
    from django.db import connections
    from django_tenants.utils import get_public_schema_name

    from tenants.roles import store_role_ensure

    schema = connections[using].schema_name
    if schema != get_public_schema_name():
        store_role_ensure(schema)


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Stores"

    def ready(self):
        post_migrate.connect(_sync_store_role, dispatch_uid="tenants.sync_store_role")
