"""The forms of merging two members: finding the other one, confirming the merge."""

from django import forms
from django.utils.translation import gettext_lazy as _

from communities.validators import database_id


class MergeSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Find the other member (name or platform id)"), max_length=120, required=False
    )


class MergeForm(forms.Form):
    other = forms.CharField(widget=forms.HiddenInput)
    confirm = forms.BooleanField(
        label=_("I understand that the other member's record is deleted once merged."),
        required=True,
    )

    def clean_other(self) -> int:
        try:
            return database_id(self.cleaned_data["other"])
        except ValueError:
            raise forms.ValidationError(_("Choose the member to merge.")) from None
