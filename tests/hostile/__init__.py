"""Hostile-module corpus: shapes that made compilation super-linear (issue 12)."""
