from django.urls import path, re_path

from assistant.consumers import AssistantConsumer
from tenants.asgi import websocket_not_found

websocket_urlpatterns = [
    path("ws/assistant/", AssistantConsumer.as_asgi()),
    re_path(r"", websocket_not_found),  # anything else: 404, never a server error
]
