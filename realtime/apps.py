"""App config of `realtime`: change events, publishing and the WebSocket consumer."""

from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"
