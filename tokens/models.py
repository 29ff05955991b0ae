"""The database-backed objects: alert thresholds (edited in the Django admin) and price candles."""

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


class PriceCandle(models.Model):
    """One OHLC candle of one token at one interval (tokens/history writes and reads them).

    The unique (mint, interval, t) index is the upserts' conflict target and serves the one read
    that matters: one mint, one interval, `t` below a bound, newest first (a backward index scan on
    SQLite and PostgreSQL alike). (interval, t) serves the retention task's deletes.
    """

    mint = models.CharField(max_length=44)
    interval = models.CharField(max_length=3)
    t = models.BigIntegerField(help_text="Candle start, Unix seconds (UTC), aligned to its interval.")
    open = models.FloatField()
    high = models.FloatField()
    low = models.FloatField()
    close = models.FloatField()
    volume_usd = models.FloatField(null=True)
    liquidity_usd = models.FloatField(null=True)
    market_cap_usd = models.FloatField(null=True)
    source = models.CharField(max_length=16, default="merged")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mint", "interval", "t"], name="candle_mint_interval_t")
        ]
        indexes = [models.Index(fields=["interval", "t"], name="candle_interval_t")]

    def __str__(self) -> str:
        return f"{self.mint} {self.interval} {self.t}"
