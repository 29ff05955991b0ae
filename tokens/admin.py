"""Admin registration of the alert-threshold singleton."""

from django.contrib import admin
from solo.admin import SingletonModelAdmin

from tokens.models import AlertSettings


@admin.register(AlertSettings)
class AlertSettingsAdmin(SingletonModelAdmin):
    fields = ("price_change_threshold_pct", "volume_spike_threshold_pct", "updated_at")
    readonly_fields = ("updated_at",)
