"""Offline replay upstream: a synthetic Solana market served as DexScreener, Jupiter and GeckoTerminal.

See tokens/replay/README.md and `python manage.py replay_upstream --help`.
"""
