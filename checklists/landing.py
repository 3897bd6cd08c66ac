"""Moderators land on My checklists after login (communities.panels.register_landing;
imported from apps.py)."""

from communities.models import Role
from communities.panels import register_landing

register_landing(Role.MODERATOR, "checklists:mine")
