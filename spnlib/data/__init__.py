"""spnlib.data.counted."""
