"""The community automation settings page's form (the service validates the rest)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from automations.models import CommunityAutomation
from automations.services.community_settings import FIELDS
from communities.models import Community, RuleKind


class CommunityAutomationForm(forms.ModelForm):
    class Meta:
        model = CommunityAutomation
        fields = list(FIELDS)
        widgets = {
            "announce_day_before_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "silence_prompt": forms.Textarea(attrs={"rows": 3}),
            "spam_words": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {
            "announce_day_before_at": _("In the community's own time zone."),
            "announce_minutes_before": _("Leave it empty for no announcement shortly before."),
            "silence_prompt": _(
                "Posted to the group when it has been quiet for more than 24 hours (the "
                "moderators are told either way)."
            ),
            "spam_words": _("Compared without regard to case or full-width letters."),
            "spam_rule": _(
                "Its penalty applies to each spam message. Without one, moderators are only told."
            ),
        }

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        rule = self.fields["spam_rule"]
        rule.queryset = community.rules.filter(kind=RuleKind.FORBIDDEN).order_by("position", "pk")
        rule.empty_label = _("(none: only tell the moderators)")
        self.fields["announce_day_before_at"].required = False
