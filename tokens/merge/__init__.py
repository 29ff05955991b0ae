"""The merge (pure): every source's snapshot to one Token per mint: pools, figures, cross-source checks."""
