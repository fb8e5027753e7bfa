"""spnlib.experiment."""
