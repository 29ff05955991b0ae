"""PostgreSQL: leave half of each candle page free, so the per-snapshot updates of open candles are
HOT updates (no new index entries): measured 50 -> 18 ms for 3,000 rows (bench/bench_candles.py)."""

from django.db import migrations


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE tokens_pricecandle SET (fillfactor = 50)")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE tokens_pricecandle RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("tokens", "0002_price_candles")]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
