"""REST routes under /api/: tokens (list, detail, candles), health, OpenAPI schema and Swagger UI."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from tokens.api.candles import TokenCandlesView
from tokens.api.health import HealthView
from tokens.api.throttling import IPRateThrottle
from tokens.api.views import TokenViewSet

router = DefaultRouter()
router.register("tokens", TokenViewSet, basename="token")

urlpatterns = [
    path("health/", HealthView.as_view(), name="health"),
    path("schema/", SpectacularAPIView.as_view(throttle_classes=[IPRateThrottle]), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", throttle_classes=[IPRateThrottle]),
        name="docs",
    ),
    path("tokens/<str:mint>/candles/", TokenCandlesView.as_view(), name="token-candles"),
    *router.urls,
]
