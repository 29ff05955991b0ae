"""The one database-backed object: alert thresholds, edited in the Django admin."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from solo.models import SingletonModel


class AlertSettings(SingletonModel):
    """Thresholds read by every merge (changes apply on the next refresh)."""

    price_change_threshold_pct = models.DecimalField(
        "price change threshold (%)",
        max_digits=7,
        decimal_places=2,
        default=Decimal("5"),
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal("10000"))],
        help_text="token.price_change fires when the price moves at least this much from its reference price.",
    )
    volume_spike_threshold_pct = models.DecimalField(
        "volume spike threshold (%)",
        max_digits=7,
        decimal_places=2,
        default=Decimal("50"),
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("100000"))],
        help_text="token.volume_spike fires when 5-minute volume exceeds the hour's 5-minute average by this much.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "alert settings"

    def __str__(self) -> str:
        return "Alert settings"
