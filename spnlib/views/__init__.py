"""spnlib.views."""
