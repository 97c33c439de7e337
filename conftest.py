"""Top-level pytest configuration: sitebench's benchmark fixtures live here."""
