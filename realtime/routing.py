"""WebSocket URL routes."""

from django.urls import path

from realtime.consumers import TokenStreamConsumer

websocket_urlpatterns = [
    path("ws/tokens/", TokenStreamConsumer.as_asgi()),
]
