"""Simplified Chinese is complete: the catalogue, and every page as a user sees it."""

import re
from html.parser import HTMLParser

import polib
import pytest
from django.conf import settings
from django.urls import reverse, reverse_lazy

from config.translations import problems_in
from tests.communities.test_permissions import PRIVATE_URLS, sample_kwargs
from tests.factories import CommunityFactory

pytestmark = pytest.mark.django_db

PO_FILE = settings.BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"

# Words that stay as they are in the Chinese interface.
KEEP_AS_IS = {"CommunityOps", "English", "QQ", "Telegram", "Discord", "Slack", "WhatsApp",
              "SOP", "CSV", "Webhook", "worker", "beat",
              # file formats and the tools that write them keep their names
              "JSON", "zip", "iPhone", "DiscordChatExporter", "xlsx", "bz2", "csv", "iTunes",
              "Desktop",  # Telegram Desktop, the app that exports a chat
              # the WeChat exporters people use (the import page's formats)
              "MemoTrace", "WeChatMsg", "PyWxDump", "chatlog", "wechat", "exporter",
              "EchoTrace", "TalkerId", "wxid",
              # text encodings, and the program and system that save them (import page)
              "UTF", "GBK", "Unicode", "Excel", "Windows",
              "API", "OpenAPI", "BI",
              # the calendar standard and its repeat rules' syntax (RFC 5545)
              "iCalendar", "RRULE", "FREQ", "WEEKLY", "INTERVAL", "BYDAY"}  # fmt: skip
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’]{2,}")
CURRENCY_CODE = re.compile(r"\b[A-Z]{3}\b")  # ISO 4217 codes such as CNY stay as they are
SLUG_EXAMPLE = re.compile(r"\b[a-z0-9]+(?:-[a-z0-9]+)+\b")  # e.g. “reading-club”, an identifier
# A message to post's four placeholders stay as written (checklists/messages.py).
MESSAGE_PLACEHOLDER = re.compile(r"\{(?:community|date|next_topic|newcomers)\}")


class VisibleText(HTMLParser):
    """Text a user reads: text nodes and the attributes shown as text, minus code."""

    SHOWN_ATTRIBUTES = {"placeholder", "title", "aria-label", "alt"}
    SKIPPED_TAGS = {"script", "style", "code", "option"}  # options: time-zone names

    def __init__(self):
        super().__init__()
        self.chunks: list[str] = []
        self.skipping: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIPPED_TAGS:
            self.skipping.append(tag)
        for name, value in attrs:
            if name in self.SHOWN_ATTRIBUTES and value:
                self.chunks.append(value)
            if tag == "input" and name == "value" and ("type", "submit") in attrs:
                self.chunks.append(value)

    def handle_endtag(self, tag):
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_data(self, data):
        if not self.skipping and data.strip():
            self.chunks.append(data.strip())


def english_left_in(html: str, allowed: set[str]) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return [
        chunk
        for chunk in parser.chunks
        if any(
            word not in allowed
            for word in LATIN_WORD.findall(
                CURRENCY_CODE.sub("", SLUG_EXAMPLE.sub("", MESSAGE_PLACEHOLDER.sub("", chunk)))
            )
        )
    ]


def test_catalogue_is_complete():
    catalog = polib.pofile(str(PO_FILE))
    assert len(catalog) > 100
    assert problems_in(catalog) == []


# Actions, not pages: they answer GET with 405.
POST_ONLY = {
    "logout",
    "members:application-link",
    "activities:calendar-feed-create",
    "activities:calendar-feed-revoke",
    "activities:occurrence-answer",
    "activities:occurrence-attendance",
    "activities:occurrence-close",
    "activities:occurrence-cancel",
    "activities:challenge-check-in",
    "activities:challenge-participants",
    "activities:challenge-participant-remove",
    "activities:challenge-settle",
    "organization-switch",
    "members:bulk",
    "members:points",
    "members:deposit",
    "members:roles",
    "members:tier",
    "members:violation",
    "members:application-approve",
    "members:application-reject",
    "communities:connector-rotate",
    "communities:connector-revoke",
    "activities:record",
    "activities:import-retry",
    "organization-privacy",
    "tokens:create",
    "tokens:revoke",
    "analytics:tag-members",
    "team:invite",
    "team:account-create",
    "team:invitation-resend",
    "team:invitation-revoke",
    "team:role",
    "team:communities",
    "team:deactivate",
    "team:reactivate",
    "team:community-moderators",
    "checklists:item-tick",
    "checklists:item-untick",
    "notifications-read",
    "checklists:template-create",
    "checklists:template-copy",
    "checklists:template-edit",
    "checklists:template-delete",
    "checklists:item-delete",
    "checklists:item-move",
    "checklists:template-use",
    "checklists:template-use-remove",
    "checklists:run-start",
    "checklists:run-reassign",
    "automations:outlet-test",
    "automations:outlet-disable",
    "automations:outlet-enable",
    "automations:outlet-delete",
    "automations:action-cancel",
    "automations:action-send-now",
    "automations:delivery-mark-sent",
    "automations:delivery-send-again",
    "automations:broadcast-preview",
    "automations:broadcast-pause",
    "automations:broadcast-resume",
    "automations:broadcast-delete",
    "automations:rule-toggle",
    "automations:rule-delete",
}
# Downloads, not pages: the CSV header stays English so that files import anywhere.
DOWNLOADS = {
    "members:export",
    "analytics:chart-csv",
    "analytics:portfolio-csv",
    "overview-csv",
    "checklists:team-csv",
}
PAGES = [(n, p) for n, p in PRIVATE_URLS if n not in POST_ONLY and n not in DOWNLOADS]


@pytest.mark.parametrize(("name", "pattern"), PAGES, ids=[n for n, _ in PAGES])
def test_every_page_is_fully_chinese(name, pattern, client_for, owner_a):
    # Only Chinese user data, so that any Latin word on the page is ours, untranslated.
    owner_a.user.username = "王芳"
    owner_a.user.save()
    owner_a.organization.name = "示例组织"
    owner_a.organization.save()
    community = CommunityFactory(organization=owner_a.organization, name="读书会", slug="dushu")
    client = client_for(owner_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    response = client.get(reverse(name, kwargs=sample_kwargs(pattern, community)))
    assert response.status_code == 200
    html = response.content.decode()
    allowed = KEEP_AS_IS | {"dushu", "Asia", "Shanghai"}
    assert english_left_in(html, allowed) == []


def test_login_page_in_chinese(client, org_a):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html = client.get(reverse("login")).content.decode()
    assert english_left_in(html, KEEP_AS_IS) == []
    assert "用户名" in html and "登录" in html


@pytest.mark.parametrize(
    "path",
    [
        reverse_lazy("password_reset"),
        reverse_lazy("password_reset_done"),
        reverse_lazy("password_reset_complete"),
        "/accounts/reset/MQ/wrong-token/",  # a wrong link's page
    ],
)
def test_password_reset_pages_in_chinese(client, owner_a, path):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    response = client.get(path, follow=True)
    assert response.status_code == 200
    assert english_left_in(response.content.decode(), KEEP_AS_IS) == []


def test_password_reset_throttled_page_in_chinese(client, owner_a, settings):
    settings.PASSWORD_RESET_LIMIT = 0
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    response = client.post(reverse("password_reset"), {"email": owner_a.user.email})
    assert response.status_code == 429
    assert english_left_in(response.content.decode(), KEEP_AS_IS) == []


def test_first_run_page_in_chinese(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    response = client.get(reverse("first-run"))
    assert response.status_code == 200
    allowed = KEEP_AS_IS | {"Asia", "Shanghai"}
    assert english_left_in(response.content.decode(), allowed) == []


def test_language_switch_sets_the_cookie(client_for, owner_a):
    client = client_for(owner_a)
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302
    html = client.get(reverse("overview")).content.decode()
    assert '<html lang="zh-hans"' in html
    for label in ("总览", "社群", "成员", "日历", "检查清单", "自动化", "数据分析", "导入", "设置"):
        assert label in html
