"""spnlib.symbolic.derivation."""
