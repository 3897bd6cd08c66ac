"""The small "add a squad" form (小组制) shown on the community page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from communities.models import Community
from members.models import PRESENT_STATUSES, Member, Squad


def leader_candidates(*, community: Community):
    """Anyone in the group can lead a squad; being picked gives them the squad-leader role
    (``services.squad_create``)."""
    return (
        Member.objects.filter(
            memberships__community=community, memberships__status__in=PRESENT_STATUSES
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
        help_text=_("Any member of the group; picking one gives them the squad-leader role."),
    )

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["leader"].queryset = leader_candidates(community=community)
        self.fields["name"].widget.attrs["placeholder"] = _("e.g. Morning runners")
