from django.apps import AppConfig


class AssistantConfig(AppConfig):
    name = "assistant"
    verbose_name = "Assistant"

    def ready(self):
        from assistant.backends import validate_backends

        validate_backends()

        from assistant.views import close_shopper_sockets
        from tenants.oidc import on_session_end

        on_session_end(close_shopper_sockets)
