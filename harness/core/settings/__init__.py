"""Options declared once, and the per-platform overrides."""
