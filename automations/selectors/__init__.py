"""The automations app's reads, one module per feature."""
