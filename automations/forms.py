"""The outlets page's forms: the platform to add, then that platform's fields only."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from automations.models import OutletPlatform

DEFAULT_PLATFORM = OutletPlatform.WECOM
# A community on one of these platforms is offered that platform's outlet first.
_COMMUNITY_PLATFORMS = {
    "wecom": OutletPlatform.WECOM,
    "wechat": OutletPlatform.WECOM,
    "telegram": OutletPlatform.TELEGRAM,
    "discord": OutletPlatform.DISCORD,
    "slack": OutletPlatform.SLACK,
    "feishu": OutletPlatform.FEISHU,
}
SIGNED = {OutletPlatform.WEBHOOK, OutletPlatform.FEISHU, OutletPlatform.DINGTALK}


def platform_for(community_platform: str) -> str:
    return _COMMUNITY_PLATFORMS.get(community_platform, DEFAULT_PLATFORM)


class PlatformChoiceForm(forms.Form):
    """Which platform's fields the add form shows (a GET form: no credential in it)."""

    platform = forms.ChoiceField(label=_("Platform"), choices=OutletPlatform.choices)


def _secret_input() -> forms.PasswordInput:
    # Never rendered back, not even after an error: a credential is typed again.
    return forms.PasswordInput(attrs={"autocomplete": "off"}, render_value=False)


class OutletForm(forms.Form):
    platform = forms.ChoiceField(choices=OutletPlatform.choices, widget=forms.HiddenInput)
    name = forms.CharField(
        label=_("Name"),
        max_length=80,
        help_text=_("Which group or channel it posts to, e.g. “Reading club WeCom group”."),
    )
    # Text, not type=url: a browser's own check would keep the server's clear error away.
    url = forms.CharField(
        label=_("Webhook URL"),
        max_length=2000,
        widget=_secret_input(),
        help_text=_("The whole address the platform gave for the robot or webhook."),
    )
    secret = forms.CharField(
        label=_("Signing secret"),
        max_length=256,
        required=False,
        widget=_secret_input(),
    )
    token = forms.CharField(label=_("Bot token"), max_length=256, widget=_secret_input())
    chat_id = forms.CharField(
        label=_("Chat id"),
        max_length=100,
        help_text=_("The group's numeric id (e.g. -1001234567890) or @channelname."),
    )

    def __init__(self, *args, platform: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["platform"].initial = platform
        chosen = self.data.get("platform", platform) if self.is_bound else platform
        if chosen not in OutletPlatform.values:
            chosen = platform
        self.platform = chosen
        if chosen == OutletPlatform.TELEGRAM:
            url = self.fields["url"]
            url.label = _("API base")
            url.required = False
            url.widget = forms.TextInput(attrs={"autocomplete": "off"})
            url.help_text = _(
                "Leave empty for Telegram's own API; fill in for a Bot API server of your own."
            )
        else:
            del self.fields["token"], self.fields["chat_id"]
        if chosen not in SIGNED:
            del self.fields["secret"]
        elif chosen == OutletPlatform.WEBHOOK:
            self.fields["secret"].required = True
            self.fields["secret"].help_text = _(
                "The receiver checks each request's HMAC-SHA256 signature with it."
            )
        else:
            self.fields["secret"].help_text = _(
                "Only if the robot's security setting is “signature” (加签): the SEC… string."
            )
