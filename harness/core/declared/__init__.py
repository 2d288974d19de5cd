"""Checks the user declares: commands, service checks, structure tests, sameness."""
