"""The forms of a member's privacy requests: who asked (export) and why (erasure)."""

from django import forms
from django.utils.translation import gettext_lazy as _

# The staff log's detail holds 300 characters, with the member's id in front.
REQUEST_MAX_LENGTH = 250


class ExportRequestForm(forms.Form):
    requested_by = forms.CharField(
        label=_("Who asked, and when"),
        max_length=REQUEST_MAX_LENGTH,
        help_text=_("For the staff log, e.g. “the member, by e-mail on 3 March”."),
    )


class EraseForm(forms.Form):
    reason = forms.CharField(
        label=_("Who asked, when, and why"),
        max_length=REQUEST_MAX_LENGTH,
        help_text=_(
            "For the staff log, e.g. “the member asked in the group on 3 March (PIPL)”. "
            "Any mention of the member's name or platform ids is removed."
        ),
    )
    confirm = forms.BooleanField(
        label=_("I understand that this cannot be undone."),
        required=True,
    )
