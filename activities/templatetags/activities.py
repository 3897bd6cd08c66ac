"""Lets lower apps' pages offer activity entry without importing this app (DESIGN.md §1):
the member profile renders ``{% activity_entry_form membership %}``."""

from django import template

from activities.forms import ActivityEntryForm

register = template.Library()


@register.inclusion_tag("activities/entry_form.html", takes_context=True)
def activity_entry_form(context, membership):
    return {
        "csrf_token": context.get("csrf_token"),
        "membership": membership,
        "form": ActivityEntryForm(prefix=f"a{membership.pk}"),
    }
