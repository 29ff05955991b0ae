"""Top-level URL routes: admin, REST API, schema, metrics and the live page."""

from django.contrib import admin
from django.urls import include, path

from realtime.views import screener
from tokens.ops.metrics_view import metrics_view

urlpatterns = [
    path("admin/", admin.site.urls),
    # REST API, /api/health/, /api/schema/ and /api/docs/ (tokens/api/urls.py).
    path("api/", include("tokens.api.urls")),
    # Other routes (the live page at "", /metrics) are added below by their owners.
    path("metrics", metrics_view, name="metrics"),  # Prometheus scrape (tokens/ops/metrics_view.py)
    path("", screener, name="screener"),
]
