"""Per-source parsers: upstream JSON to plain records (pure; tested on recorded samples)."""
