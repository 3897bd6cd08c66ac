"""Every write to organisations, staff and communities goes through a function here."""

from collections.abc import Iterable
from datetime import date

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify

from communities.models import Community, Organization, Staff

EDITABLE_COMMUNITY_FIELDS = ("name", "slug", "platform", "time_zone", "created_on", "archived")


def organization_create(*, name: str, slug: str) -> Organization:
    organization = Organization(name=name, slug=slug)
    organization.full_clean()
    organization.save()
    return organization


@transaction.atomic
def staff_user_create(
    *,
    organization: Organization,
    username: str,
    password: str,
    role: str,
    email: str = "",
    first_name: str = "",
    communities: Iterable[Community] = (),
):
    """Create a sign-in account and give it a role in the organisation."""
    user = get_user_model().objects.create_user(
        username=username, password=password, email=email, first_name=first_name
    )
    staff_add(organization=organization, user=user, role=role, communities=communities)
    return user


def staff_add(
    *, organization: Organization, user, role: str, communities: Iterable[Community] = ()
) -> Staff:
    staff = Staff(organization=organization, user=user, role=role)
    staff.full_clean()
    staff.save()
    communities = list(communities)
    if any(c.organization_id != organization.id for c in communities):
        raise ValueError("A staff member can only be assigned their organisation's communities.")
    staff.communities.set(communities)
    return staff


def community_slug_suggest(*, organization: Organization, name: str) -> str:
    """An unused ASCII slug for a name; Chinese names fall back to "community-N"."""
    base = slugify(name)[:50].strip("-") or "community"
    taken = set(
        Community.objects.filter(organization=organization, slug__startswith=base).values_list(
            "slug", flat=True
        )
    )
    if base not in taken and base != "community":
        return base
    n = 2 if base != "community" else 1
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def community_create(
    *,
    organization: Organization,
    name: str,
    platform: str,
    slug: str = "",
    time_zone: str | None = None,
    created_on: date | None = None,
    archived: bool = False,
) -> Community:
    community = Community(
        organization=organization,
        name=name,
        slug=slug or community_slug_suggest(organization=organization, name=name),
        platform=platform,
        archived=archived,
    )
    if time_zone:
        community.time_zone = time_zone
    if created_on:
        community.created_on = created_on
    community.full_clean()
    community.save()
    return community


def community_update(*, community: Community, data: dict) -> Community:
    """Change the editable fields named in ``data``; other keys are a programming error."""
    unknown = set(data) - set(EDITABLE_COMMUNITY_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    changed = [field for field, value in data.items() if getattr(community, field) != value]
    for field in changed:
        setattr(community, field, data[field])
    if not changed:
        return community
    community.full_clean()
    community.save(update_fields=[*changed, "updated_at"])
    return community
