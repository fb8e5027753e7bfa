"""spnlib.report.assess."""
