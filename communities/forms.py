from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from communities.models import Community, time_zone_choices


class CommunityForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        label=_("time zone"),
        choices=time_zone_choices,
        initial=settings.DEFAULT_COMMUNITY_TIME_ZONE,
    )

    class Meta:
        model = Community
        fields = ["name", "slug", "platform", "time_zone", "created_on", "archived"]
        # <input type="date"> takes ISO dates whatever the interface language.
        widgets = {"created_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args, creating: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].help_text = Community._meta.get_field("time_zone").help_text
        if creating:
            self.fields["slug"].required = False
            self.fields["slug"].help_text = _("Leave empty to make one from the name.")
            del self.fields["archived"]

    def _post_clean(self):
        # Model validation (including the per-organisation unique slug) runs in the
        # service, where the organisation is known; the form only checks its fields.
        pass


class CommunityFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    platform = forms.ChoiceField(label=_("platform"), required=False)
    archived = forms.BooleanField(label=_("Show archived"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        platform_field = Community._meta.get_field("platform")
        self.fields["platform"].choices = [("", _("All platforms")), *platform_field.choices]
        self.fields["q"].widget.attrs["placeholder"] = _("Name contains…")
