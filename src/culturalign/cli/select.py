"""Commands for this capability are attached here (see cli/groups.py)."""
