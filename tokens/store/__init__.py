"""The snapshot store: what ingest saved (ingested), the merged snapshots (snapshots), beat's heartbeat."""
