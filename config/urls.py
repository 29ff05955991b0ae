"""Top-level URL routes: admin, REST API, schema, metrics and the live page."""

from django.contrib import admin
from django.urls import path

urlpatterns = [
    path("admin/", admin.site.urls),
]
