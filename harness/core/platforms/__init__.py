"""Platforms: the table, engines per platform, which run natively, CI matrices, units of work."""
