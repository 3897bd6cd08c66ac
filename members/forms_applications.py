"""Forms of the entry questionnaire and the application review queue."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from communities.forms import add_service_error
from communities.models import Community, Platform
from members.models import (
    Application,
    ApplicationQuestion,
    ApplicationStatus,
    QuestionKind,
    Tag,
    TagKind,
)

# Answers that become tags must fit in a tag's name.
TAG_NAME_MAX_LENGTH = Tag._meta.get_field("name").max_length


class QuestionForm(forms.Form):
    """One new question of a community's questionnaire; choices are typed one per line."""

    kind = forms.ChoiceField(label=_("Kind"), choices=QuestionKind.choices)
    prompt = forms.CharField(
        label=_("Question"),
        max_length=ApplicationQuestion._meta.get_field("prompt").max_length,
    )
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line; at least two for a choice question. Ignored for free text."),
    )
    tag_kind = forms.ChoiceField(
        label=_("Answers become tags"),
        required=False,
        choices=[("", _("No")), *TagKind.choices],
        help_text=ApplicationQuestion._meta.get_field("tag_kind").help_text,
    )

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        lines = [line.strip() for line in (cleaned.get("choices") or "").splitlines()]
        choices = [line for line in lines if line]
        if kind == QuestionKind.TEXT:
            choices = []
        if len(set(choices)) != len(choices):
            self.add_error("choices", _("Each choice must be different."))
        if cleaned.get("tag_kind") and any(len(c) > TAG_NAME_MAX_LENGTH for c in choices):
            self.add_error(
                "choices",
                _("Answers that become tags must be at most %(limit)d characters each.")
                % {"limit": TAG_NAME_MAX_LENGTH},
            )
        cleaned["choices"] = choices
        return cleaned


QUESTION_FIELD_PREFIX = "answer_"


def answer_field_name(question: ApplicationQuestion) -> str:
    return f"{QUESTION_FIELD_PREFIX}{question.pk}"


class ApplicationForm(forms.Form):
    """What an applicant answered, typed in by staff; one field per question.

    The answer fields are not required here: whether an answer is missing or not one of
    the listed choices is the questionnaire's rule, kept in one place
    (``services.application_submit``), whose errors land on the matching field.
    """

    display_name = forms.CharField(
        label=_("Display name"),
        max_length=Application._meta.get_field("display_name").max_length,
    )
    platform = forms.ChoiceField(label=_("Platform"), choices=Platform.choices)
    external_id = forms.CharField(
        label=_("Platform id"),
        max_length=Application._meta.get_field("external_id").max_length,
        help_text=_("How the applicant is known on the platform, e.g. their WeChat id."),
    )

    def __init__(self, *args, community: Community, questions: list, **kwargs):
        kwargs.setdefault("initial", {"platform": community.platform})
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            self.fields[answer_field_name(question)] = self._answer_field(question)

    @staticmethod
    def _answer_field(question: ApplicationQuestion) -> forms.Field:
        label = question.prompt
        if question.kind == QuestionKind.MULTIPLE:
            return forms.MultipleChoiceField(
                label=label,
                required=False,
                choices=[(c, c) for c in question.choices],
                widget=forms.CheckboxSelectMultiple,
            )
        if question.kind == QuestionKind.CHOICE:
            return forms.ChoiceField(
                label=label,
                required=False,
                choices=[(c, c) for c in question.choices],
                widget=forms.RadioSelect,
            )
        if question.tag_kind:
            # The answer becomes a tag on approval, so it must fit in one.
            return forms.CharField(label=label, required=False, max_length=TAG_NAME_MAX_LENGTH)
        return forms.CharField(
            label=label, required=False, widget=forms.Textarea(attrs={"rows": 3})
        )

    def answer_fields(self):
        return [self[answer_field_name(question)] for question in self.questions]

    def applicant_fields(self):
        return [self[name] for name in ("display_name", "platform", "external_id")]

    def answers(self) -> dict:
        """The answers as ``services.application_submit`` takes them: by question id."""
        return {
            str(question.pk): self.cleaned_data.get(answer_field_name(question))
            for question in self.questions
        }

    def add_service_error(self, error: ValidationError) -> None:
        """Put a service's ValidationError on the fields it names (answers by question id)."""
        add_service_error(
            self,
            error,
            field_for=lambda key: f"{QUESTION_FIELD_PREFIX}{key}" if key.isdigit() else key,
        )


class DecisionForm(forms.Form):
    """Where to go back to after a decision taken without JavaScript."""

    next = forms.CharField(required=False, widget=forms.HiddenInput)


class RejectForm(DecisionForm):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=Application._meta.get_field("decision_note").max_length,
        error_messages={"required": _("Say why the application is rejected.")},
    )


class QueueFilterForm(forms.Form):
    community = forms.ChoiceField(label=_("Community"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=ApplicationStatus.choices)

    def __init__(self, data, *, communities: list[Community], **kwargs):
        super().__init__(data, **kwargs)
        self.communities = {c.slug: c for c in communities}
        self.fields["community"].choices = [
            ("", _("All communities")),
            *[(c.slug, c.name) for c in communities],
        ]

    @property
    def chosen_community(self) -> Community | None:
        self.is_valid()  # a bad value in one field leaves the others usable
        slug = self.cleaned_data.get("community")
        return self.communities.get(slug or "")

    @property
    def chosen_status(self) -> str:
        self.is_valid()
        status = self.cleaned_data.get("status")
        return status or ApplicationStatus.PENDING


class QuestionActionForm(forms.Form):
    """Delete a question or move it up or down; only the community's own questions."""

    ACTIONS = {"delete": 0, "up": -1, "down": 1}

    action = forms.ChoiceField(choices=[(a, a) for a in ACTIONS])
    question = forms.ModelChoiceField(queryset=ApplicationQuestion.objects.none())

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["question"].queryset = community.questions.select_related("community")


class PublicApplicationForm(ApplicationForm):
    """The questionnaire as an applicant fills it in on the community's public link: their
    name and their id on the community's own platform, the answers, and a honeypot field
    that people never see (``website``) and form-filling robots do."""

    website = forms.CharField(
        label=_("Leave this empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, community: Community, questions: list, **kwargs):
        super().__init__(*args, community=community, questions=questions, **kwargs)
        del self.fields["platform"]
        self.community = community
        self.fields["display_name"].label = _("Your name in the group")
        self.fields["external_id"].label = _("Your %(platform)s id") % {
            "platform": community.get_platform_display()
        }
        self.fields["external_id"].help_text = _(
            "So that the organisers can find you on %(platform)s."
        ) % {"platform": community.get_platform_display()}

    @property
    def is_robot(self) -> bool:
        return bool(self.data.get("website"))

    def applicant_fields(self):
        return [self[name] for name in ("display_name", "external_id")]
