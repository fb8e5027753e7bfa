"""spnlib.structure."""
