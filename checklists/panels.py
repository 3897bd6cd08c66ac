"""What the checklists app adds to lower apps' pages (registered from apps.py)."""
