"""Price history: candles built from every published snapshot, kept in the database, read newest first."""
