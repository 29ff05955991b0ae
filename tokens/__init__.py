"""The market-data app: ingest the sources, merge them, store snapshots, serve them over REST."""
