import re

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from activities.models import ACTIVITY_KINDS, ActivityKind, ImportFormat
from communities.models import Community, Platform, time_zone_choices
from communities.validators import BoundedDateTimeField

# The export tools each platform's groups are imported from (the formats of ImportFormat),
# named on the import form. "Recognise the format from the file" stays preselected: it
# reads each of them (activities.importers.recognition), which a WeChat group needs, its
# history coming from one of five tools.
SLUG = re.compile(r"[-a-zA-Z0-9_]{1,50}")  # a community's slug, nothing else is looked up
PLATFORM_TOOLS = {
    Platform.WECHAT: "MemoTrace / WeChatMsg, PyWxDump, chatlog, wechat-exporter (iPhone), "
    "EchoTrace",
    Platform.WECOM: "MemoTrace / WeChatMsg, PyWxDump, chatlog",
    Platform.TELEGRAM: "Telegram Desktop",
    Platform.DISCORD: "DiscordChatExporter",
    Platform.SLACK: "Slack",
    Platform.WHATSAPP: "WhatsApp",
}


def format_help(platform: str | None) -> str:
    """What the form says under the format: the tools the community's platform is read
    from (all platforms' when none is chosen yet), and the generic CSV for the rest."""
    tools = (
        [PLATFORM_TOOLS[platform]]
        if platform in PLATFORM_TOOLS
        else [f"{Platform(key).label}: {value}" for key, value in PLATFORM_TOOLS.items()]
    )
    return _("Exports of %(tools)s are recognised from the file; anything else as CSV.") % {
        "tools": "; ".join(tools)
    }


class ImportForm(forms.Form):
    community = forms.ModelChoiceField(
        label=_("Community"), queryset=Community.objects.none(), to_field_name="slug"
    )
    format = forms.ChoiceField(
        label=_("Format"), choices=ImportFormat.choices, initial=ImportFormat.AUTO
    )
    file = forms.FileField(label=_("Export file"))
    time_zone = forms.ChoiceField(
        label=_("Time zone of the file"),
        required=False,
        help_text=_(
            "Times written without a time zone (WeChat exports, WhatsApp) are read in this "
            "one; by default the community's own."
        ),
    )
    source_name = forms.CharField(
        label=_("Chat or channel"),
        required=False,
        max_length=200,
        help_text=format_lazy(
            "{} {}",
            _(
                "Only for exports that hold several chats (a full Telegram account export, "
                "a Slack workspace, a WeChat export of all chats or of several): the name or id "
                "of the one that is this community."
            ),
            _("For WhatsApp: your own name in the chat, so that “… added you” is your join."),
        ),
    )

    def __init__(self, *args, communities, upload_refused=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities
        slug = str(self["community"].value() or "")
        chosen = communities.filter(slug=slug).first() if SLUG.fullmatch(slug) else None
        self.fields["format"].help_text = format_help(chosen.platform if chosen else None)
        self.fields["time_zone"].choices = [
            ("", _("The community's time zone")),
            *time_zone_choices(),
        ]
        limit = filesizeformat(settings.IMPORT_MAX_UPLOAD_BYTES)
        self.fields["file"].help_text = _("Up to %(limit)s.") % {"limit": limit}
        # activities.uploads stopped reading the file at the limit: say so, not "required".
        self.upload_refused = upload_refused
        self.fields["file"].required = not upload_refused

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if self.upload_refused:
            raise forms.ValidationError(
                _("The file is too large; the limit is %(limit)s.")
                % {"limit": filesizeformat(settings.IMPORT_MAX_UPLOAD_BYTES)}
            )
        if upload.size > settings.IMPORT_MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is %(size)s; the limit is %(limit)s.")
                % {
                    "size": filesizeformat(upload.size),
                    "limit": filesizeformat(settings.IMPORT_MAX_UPLOAD_BYTES),
                }
            )
        return upload


class ActivityEntryForm(forms.Form):
    """Manual entry: what staff saw a member do outside the chat (a meetup, a check-in)."""

    kind = forms.ChoiceField(
        label=_("Activity"),
        choices=[(k.value, k.label) for k in ActivityKind if k.value in ACTIVITY_KINDS],
        initial=ActivityKind.ATTEND,
    )
    occurred_at = BoundedDateTimeField(
        label=_("When"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=500)
