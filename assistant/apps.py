from django.apps import AppConfig


class AssistantConfig(AppConfig):
    name = "assistant"
    verbose_name = "Assistant"

    def ready(self):
        from assistant.backends import validate_backends

        validate_backends()
