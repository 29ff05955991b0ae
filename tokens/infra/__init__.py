"""Infrastructure every app uses (Redis clients, metric definitions, log helpers, GC tuning); imports no app."""
