"""Ingest: refresh each source within its budgets (plans, HTTP, run toolkit), parse its JSON, rank the universe."""
