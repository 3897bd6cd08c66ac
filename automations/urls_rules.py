"""The automation rules' URLs (included by automations/urls.py)."""

from django.urls import path

from automations.views import rules

urlpatterns = [
    path("rules/", rules.rules, name="rules"),
    path("rules/new/", rules.rule_new, name="rule-new"),
    path("rules/<int:rule_id>/", rules.rule, name="rule"),
    path("rules/<int:rule_id>/edit/", rules.rule_edit, name="rule-edit"),
    path("rules/<int:rule_id>/dry-run/", rules.rule_dry_run, name="rule-dry-run"),
    path("rules/<int:rule_id>/toggle/", rules.rule_toggle, name="rule-toggle"),
    path("rules/<int:rule_id>/delete/", rules.rule_delete, name="rule-delete"),
]
