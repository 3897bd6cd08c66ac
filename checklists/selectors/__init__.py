"""Reads of the checklists app, by page: ``completion`` (the SOP completion figure, shared by
the team view and analytics), ``mine`` (My checklists), ``team`` (the team view)."""
