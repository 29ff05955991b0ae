"""ASGI entry point for daphne: HTTP through Django, WebSocket through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from realtime.routing import websocket_urlpatterns  # noqa: E402
from tokens.api.candle_reads import CandleReads  # noqa: E402
from tokens.asgi.cache import TokenResponseCache  # noqa: E402
from tokens.asgi.http_metrics import HttpMetricsMiddleware  # noqa: E402
from tokens.infra.gc_tuning import tune_for_serving  # noqa: E402
from tokens.store import snapshots  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Repeated GET /api/tokens/… reads are answered from a per-process cache (tokens/asgi/cache.py),
        # candle reads it misses by a fast path beside Django (tokens/api/candle_reads.py); every
        # request, cached or not, is timed by route and status (tokens/ops/metrics_view.py).
        "http": HttpMetricsMiddleware(TokenResponseCache(CandleReads(django_asgi_app))),
        "websocket": AllowedHostsOriginValidator(URLRouter(websocket_urlpatterns)),
    }
)

# Every web process holds the current snapshot from its start and follows each switch, requests or
# not: it serves the last data through a Redis outage even if no request came before it.
snapshots.follow_current()

# Last: everything imported so far lives as long as the process; keep it out of every collection.
tune_for_serving()
