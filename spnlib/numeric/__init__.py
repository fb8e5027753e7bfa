"""spnlib.numeric."""
