"""The small "add a squad" form (小组制) shown on the community page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from communities.models import Community
from members.models import PRESENT_STATUSES, Member, MemberRole, Squad

# Squad leaders come from the group's second tier: members who hold a role in it.
LEADER_ROLES = [role for role in MemberRole if role not in {MemberRole.MEMBER, MemberRole.LURKER}]


def leader_candidates(*, community: Community):
    return (
        Member.objects.filter(
            memberships__community=community,
            memberships__status__in=PRESENT_STATUSES,
            memberships__roles__role__in=LEADER_ROLES,
        )
        .distinct()
        .order_by("display_name", "id")
    )


class SquadForm(forms.Form):
    name = forms.CharField(
        label=Squad._meta.get_field("name").verbose_name,
        max_length=Squad._meta.get_field("name").max_length,
    )
    leader = forms.ModelChoiceField(
        label=Squad._meta.get_field("leader").verbose_name,
        queryset=Member.objects.none(),
        required=False,
        empty_label=_("No leader yet"),
        help_text=_(
            "Leaders are chosen among members who hold a role in the group "
            "(owner, admin, opinion leader, core…)."
        ),
    )

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["leader"].queryset = leader_candidates(community=community)
        self.fields["name"].widget.attrs["placeholder"] = _("e.g. Morning runners")
