"""Writes of the automations app, one module per feature (CONVENTIONS.md): for example
``dispatch`` claims due actions and writes their deliveries, ``deliver`` sends one."""
