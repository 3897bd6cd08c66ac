"""Decoupled side effects only (CONVENTIONS.md): communities cannot import members."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from communities.models import Community


@receiver(post_save, sender=Community, dispatch_uid="members.default_ladder")
def give_new_community_a_ladder(sender, instance: Community, created: bool, raw: bool, **kwargs):
    # Every community has a pyramid from day one: the default four-level ladder.
    if created and not raw:
        from members.services import tiers_create_default

        tiers_create_default(community=instance)
