from django.apps import AppConfig


class StorefrontConfig(AppConfig):
    name = "storefront"
    verbose_name = "Store"

    def ready(self):
        from tenants.roles import register_role_tables

        # What the assistant's tools read; the store role may SELECT these and nothing else.
        register_role_tables("storefront", "storefront_returnpolicy", "storefront_order", "storefront_orderitem")
