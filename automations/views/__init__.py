"""The automations app's pages, one module per feature (outlets.py: a community's outlets)."""
