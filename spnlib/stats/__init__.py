"""spnlib.stats."""
