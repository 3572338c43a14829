"""Baseline for bench/socket_path.py: a bare Channels echo consumer, no tenancy,
no authentication, no database: what the socket path costs without the product."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storefront.settings")
django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402


class Echo(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        await self.send(text_data=text_data)


application = ProtocolTypeRouter({"websocket": URLRouter([path("ws/echo/", Echo.as_asgi())])})
