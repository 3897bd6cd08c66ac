"""Forms of the staff pages: choices bounded by the organisation."""

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from communities.models import Community, Role, StaffAction
from communities.validators import BoundedDateField, database_id

USERNAME_MAX = get_user_model()._meta.get_field("username").max_length


class CommunitiesField(forms.ModelMultipleChoiceField):
    def __init__(self, organization, **kwargs):
        super().__init__(
            queryset=Community.objects.filter(organization=organization).order_by("name"),
            required=False,
            label=_("Communities (moderators only)"),
            widget=forms.CheckboxSelectMultiple,
            **kwargs,
        )

    def clean(self, value):
        # Ids that are not ids are "not a valid choice", never a database error.
        for item in value or []:
            try:
                database_id(item)
            except (TypeError, ValueError):
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": str(item)[:20]},
                ) from None
        return super().clean(value)


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.MODERATOR)
    language = forms.ChoiceField(label=_("Language of the e-mail"), choices=settings.LANGUAGES)

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].initial = organization.language
        self.fields["communities"] = CommunitiesField(organization)


class AccountForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=USERNAME_MAX)
    email = forms.EmailField(label=_("E-mail"), max_length=254, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.MODERATOR)
    password = forms.CharField(
        label=_("Temporary password"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("They must change it when they first sign in."),
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["communities"] = CommunitiesField(organization)


class AcceptForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=USERNAME_MAX)
    password1 = forms.CharField(
        label=_("Password"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput,
        help_text=password_validators_help_text_html,
    )
    password2 = forms.CharField(
        label=_("Password again"), max_length=128, strip=False, widget=forms.PasswordInput
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password2") != data.get("password1"):
            self.add_error("password2", _("The two passwords differ."))
        return data


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class AssignForm(forms.Form):
    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["communities"] = CommunitiesField(organization)


class ModeratorForm(forms.Form):
    """Assign or unassign one moderator on a community's page."""

    staff = forms.TypedChoiceField(label=_("Moderator"), coerce=database_id)
    assigned = forms.TypedChoiceField(
        choices=[("1", "1"), ("0", "0")], coerce=lambda value: value == "1"
    )

    def __init__(self, *args, moderators, **kwargs):
        super().__init__(*args, **kwargs)
        self.moderators = {member.pk: member for member in moderators}
        self.fields["staff"].choices = [
            (member.pk, member.user.get_username()) for member in moderators
        ]


class LogFilterForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("All")), *StaffAction.choices]
    )
    person = forms.TypedChoiceField(
        label=_("Person"), required=False, coerce=database_id, empty_value=None
    )
    start = BoundedDateField(
        label=pgettext_lazy("date range", "From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = BoundedDateField(
        label=pgettext_lazy("date range", "To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [("", _("Everyone"))] + [
            (user.pk, user.get_username()) for user in people
        ]

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("The end is before the start."))
        return data
