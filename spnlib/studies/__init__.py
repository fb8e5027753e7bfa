"""spnlib.studies."""
