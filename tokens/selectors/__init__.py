"""Selectors: filter, order and keyset-page the tokens of a snapshot (pure functions over plain records)."""
