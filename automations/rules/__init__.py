"""Automation rules as data (issue 12): trigger → conditions → actions.

- ``spec``: a rule as the engine reads it (a saved rule, or the form's unsaved one for a
  dry-run before saving) and the ``Candidate`` every trigger yields;
- ``matching``: keywords (NFKC, case folded) and regular expressions matched with a timeout;
- ``triggers``: ``candidates(spec, start, end)`` per trigger, the one source of what could
  fire for the live path, beat's scan and the dry-run, and ``live_candidates`` for events
  that just arrived through the webhook;
- ``conditions``: communities, tier and tags;
- ``effects``: what each action does (and, for the dry-run, would do);
- ``engine``: ``fire`` (once per candidate key), the live callback and beat's scan;
- ``dry_run``: the last 7 days replayed without writing anything.
"""
