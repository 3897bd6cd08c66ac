from collections.abc import Callable

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.forms import BaseModelFormSet, modelformset_factory
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from communities.models import (
    Community,
    Organization,
    Platform,
    Programme,
    Rule,
    RuleKind,
    time_zone_choices,
)
from communities.services import EDITABLE_COMMUNITY_FIELDS, RuleEdit
from communities.validators import BoundedDateField


def iso_date_input() -> forms.DateInput:
    # <input type="date"> takes ISO dates whatever the interface language.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def add_service_error(
    form: forms.BaseForm, error: ValidationError, field_for: Callable[[str], str] = str
) -> None:
    """Show a service's ValidationError on the form: on the field each message names when
    the form has it, above the form otherwise. The one way services' errors reach forms:
    a model field the form does not have must never raise.

    ``field_for`` maps the service's names to the form's (``{"kind": "tag_kind"}.get``
    style), for forms whose fields are named differently from the model's."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        field = field_for(name) or name
        form.add_error(field if field in form.fields else None, errors)


class ServiceValidatedModelForm(forms.ModelForm):
    def _post_clean(self):
        # Model validation (including per-organisation uniqueness) runs in the service,
        # where the organisation is known; the form only checks its fields. The instance
        # is left untouched: the service is the only writer.
        pass


FIVE_W_ONE_H = ["why", "what", "where", "who", "when", "how"]


class CommunityForm(ServiceValidatedModelForm):
    """Create or edit a community: basics, its positioning card and ladder options."""

    time_zone = forms.ChoiceField(
        label=_("time zone"),
        choices=time_zone_choices,
        initial=settings.DEFAULT_COMMUNITY_TIME_ZONE,
    )

    # (legend, description, fields) in page order; the template draws a <fieldset> each.
    FIELDSETS = [
        (_("Basics"), "", ["name", "slug", "platform", "time_zone", "created_on", "archived"]),
        (
            _("Positioning"),
            _("The concrete goal, the group's place in the funnel, its size and its dates."),
            ["goal", "funnel_role", "programme", "capacity", "start_date", "end_date"],
        ),
        (
            _("5W1H self-check"),
            _(
                "Why build it, what members get, where it lives, who they are, "
                "when it runs, how it pays back."
            ),
            FIVE_W_ONE_H,
        ),
        (_("Ladder options"), "", ["demotion_enabled", "demotion_grace_days"]),
    ]

    class Meta:
        model = Community
        # Exactly what the services let a form change.
        fields = list(EDITABLE_COMMUNITY_FIELDS)
        # The dates every form takes (communities.validators): the analytics count from them.
        field_classes = dict.fromkeys(["created_on", "start_date", "end_date"], BoundedDateField)
        widgets = {
            "created_on": iso_date_input(),
            "start_date": iso_date_input(),
            "end_date": iso_date_input(),
            **{name: forms.Textarea(attrs={"rows": 2}) for name in FIVE_W_ONE_H},
        }

    def __init__(
        self,
        *args,
        organization: Organization,
        creating: bool = False,
        suggested_slug: str = "",
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].help_text = Community._meta.get_field("time_zone").help_text
        # Only this organisation's programmes can be chosen.
        self.fields["programme"].queryset = Programme.objects.filter(organization=organization)
        self.fields["programme"].help_text = _(
            "The community matrix (社群矩阵) this group belongs to, if any."
        )
        self.fields["capacity"].widget.attrs["min"] = 1
        self.fields["demotion_grace_days"].widget.attrs["min"] = 0
        self.fields["demotion_grace_days"].required = False
        if creating:
            self.fields["time_zone"].initial = organization.time_zone
            self.fields["slug"].required = False
            self.fields["slug"].help_text = _(
                "The community's address. Leave empty to use the one shown, made from the "
                "name (Chinese as pinyin), or type your own."
            )
            self.fields["slug"].widget.attrs["placeholder"] = suggested_slug
            # Typing the name shows the address it makes (the page's slug field, swapped
            # in place; what was typed in it is sent along and kept).
            self.fields["name"].widget.attrs.update(
                {
                    "hx-get": reverse("communities:create"),
                    "hx-trigger": "input changed delay:400ms",
                    "hx-target": "#id_slug",
                    "hx-select": "#id_slug",
                    "hx-swap": "outerHTML",
                    "hx-include": "#id_slug",
                }
            )
            del self.fields["archived"]

    def clean_demotion_grace_days(self):
        # Left empty: keep what the community has (the model's default for a new one).
        value = self.cleaned_data["demotion_grace_days"]
        return self.instance.demotion_grace_days if value is None else value

    def fieldsets(self):
        """(legend, description, bound fields) for each fieldset, minus left-out fields."""
        return [
            (legend, description, [self[name] for name in names if name in self.fields])
            for legend, description, names in self.FIELDSETS
        ]


class CommunityFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    platform = forms.ChoiceField(label=_("platform"), required=False)
    archived = forms.BooleanField(label=_("Show archived"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        platform_field = Community._meta.get_field("platform")
        self.fields["platform"].choices = [("", _("All platforms")), *platform_field.choices]
        self.fields["q"].widget.attrs["placeholder"] = _("Name contains…")


# --- Rules -----------------------------------------------------------------------------------


class RuleTextsForm(ServiceValidatedModelForm):
    """The rules' texts around the behaviours: value, entry standard, vision, language."""

    class Meta:
        model = Community
        fields = ["value_statement", "entry_standard", "vision", "announcement_language"]
        widgets = {
            "value_statement": forms.Textarea(attrs={"rows": 3}),
            "entry_standard": forms.Textarea(attrs={"rows": 3}),
            "vision": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "entry_standard": _("Who may join: interests, industry, region, a deposit…"),
            "vision": _("Where the group is heading together; the announcement ends with it."),
            "announcement_language": _("The language the announcement is written in."),
        }


class EncouragedRuleForm(ServiceValidatedModelForm):
    kind = RuleKind.ENCOURAGED

    class Meta:
        model = Rule
        fields = ["title", "points"]
        labels = {"points": _("points earned")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["points"].widget.attrs["min"] = 0


class ForbiddenRuleForm(ServiceValidatedModelForm):
    kind = RuleKind.FORBIDDEN

    strikes_to_removal = forms.IntegerField(
        label=Rule._meta.get_field("strikes_to_removal").verbose_name,
        help_text=Rule._meta.get_field("strikes_to_removal").help_text,
        min_value=1,
        required=False,
    )

    class Meta:
        model = Rule
        fields = ["title", "penalty", "points", "strikes_to_removal"]
        labels = {"points": _("points deducted")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A forbidden behaviour always has a penalty (Rule.clean); say so before saving.
        self.fields["penalty"].required = True
        self.fields["points"].widget.attrs["min"] = 0


class BaseRuleFormSet(BaseModelFormSet):
    """The behaviours of one kind: existing rows, two blank rows to add, a delete box each."""

    def clean(self):
        super().clean()
        # A row sent as an existing rule that is not among this community's rules (deleted
        # meanwhile in another tab, or another community's) must not turn into a new rule.
        for index, form in enumerate(self.forms):
            if (
                index < self.initial_form_count()
                and form.instance.pk is None
                and not (self.can_delete and self._should_delete_form(form))
            ):
                raise ValidationError(
                    _("A rule on this page no longer exists. Reload the page and try again.")
                )

    def edits(self) -> list[RuleEdit]:
        """What the rows ask for, for services.community_rules_save (valid formset only)."""
        kind = self.form.kind
        edits = []
        for form in self.forms:
            existing = form.instance if form.instance.pk else None
            if self.can_delete and self._should_delete_form(form):
                if existing is not None:
                    edits.append(RuleEdit(kind=kind, rule=existing, delete=True))
            elif form.has_changed():
                data = {name: form.cleaned_data[name] for name in form.Meta.fields}
                edits.append(RuleEdit(kind=kind, rule=existing, data=data))
        return edits


# Behaviours of one kind a community's rules may list. Also the most forms a post may ask
# for: a TOTAL_FORMS of 10**20 would otherwise build and render Django's 2,000.
MAX_RULES_PER_KIND = 100


def rule_formset(kind: str, community: Community, data=None):
    form = EncouragedRuleForm if kind == RuleKind.ENCOURAGED else ForbiddenRuleForm
    formset_class = modelformset_factory(
        Rule,
        form=form,
        formset=BaseRuleFormSet,
        extra=2,
        can_delete=True,
        max_num=MAX_RULES_PER_KIND,
        absolute_max=MAX_RULES_PER_KIND,
        validate_max=True,
    )
    return formset_class(
        data, queryset=community.rules.filter(kind=kind).order_by("position", "id"), prefix=kind
    )


class ProgrammeForm(ServiceValidatedModelForm):
    class Meta:
        model = Programme
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class ConnectorForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=80,
        help_text=_("Which bot sends the events, e.g. “WeCom bot on the server room PC”."),
    )
    platform = forms.ChoiceField(label=_("Platform"), choices=Platform.choices)


# --- Organisations and the first run -------------------------------------------------------


class OrganizationForm(forms.Form):
    """A new organisation: its name and the defaults its communities and e-mails start with."""

    name = forms.CharField(label=_("Organisation name"), max_length=120)
    time_zone = forms.ChoiceField(
        label=_("Default time zone"),
        choices=time_zone_choices,
        initial="Asia/Shanghai",
        help_text=_("New communities start in this time zone."),
    )
    currency = forms.CharField(
        label=_("Currency for deposits"),
        max_length=3,
        min_length=3,
        initial="CNY",
        help_text=_("ISO 4217 code used for commitment deposits, e.g. CNY, USD, SGD."),
    )
    language = forms.ChoiceField(
        label=_("Default language"),
        choices=settings.LANGUAGES,
        initial="zh-hans",
        help_text=_("The language of e-mails to people whose own language is not known."),
    )

    def clean_currency(self):
        return self.cleaned_data["currency"].strip().upper()


class FirstRunForm(OrganizationForm):
    """The first organisation and the account that owns it. The service checks the user
    name and the password against the project's rules (the same ones as the command)."""

    username = forms.CharField(label=_("User name"), max_length=150)
    email = forms.EmailField(label=_("E-mail"))
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    ORGANIZATION_FIELDS = ("name", "time_zone", "currency", "language")
    OWNER_FIELDS = ("username", "email", "password1", "password2")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        username = get_user_model()._meta.get_field("username")
        self.fields["username"].help_text = username.help_text
        self.fields["username"].validators.extend(username.validators)

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        return cleaned

    def organization_fields(self):
        return [self[name] for name in self.ORGANIZATION_FIELDS]

    def owner_fields(self):
        return [self[name] for name in self.OWNER_FIELDS]

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            **{name: data[name] for name in self.ORGANIZATION_FIELDS},
            "username": data["username"],
            "email": data["email"],
            "password": data["password1"],
        }

    @staticmethod
    def field_for(name: str) -> str:
        """The service's names for the form's: its password is the first box."""
        return {"password": "password1"}.get(name, name)
