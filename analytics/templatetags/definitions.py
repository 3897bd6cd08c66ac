"""``{% definition "dau" %}``: an info button beside a figure that opens its one-line
definition (``analytics.definitions``) in a popover — the browser's own ``popover``, so it
opens from the keyboard (Enter or Space on the button) and closes with Escape or a click
elsewhere, without JavaScript. ``{% definition "dau" "overview" %}`` prefixes the popover's
id, for a figure defined twice on one page."""

from django import template

from analytics.definitions import DEFINITIONS

register = template.Library()


@register.inclusion_tag("analytics/includes/definition.html")
def definition(key: str, prefix: str = "def") -> dict:
    found = DEFINITIONS.get(key)
    return {"definition": found, "id": f"{prefix}-{key}".replace("_", "-")}
