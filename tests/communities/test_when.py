"""Relative times read naturally in both languages (communities/templatetags/when.py)."""

from datetime import timedelta

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

NOW = timezone.now()


def ago(delta: timedelta, language: str) -> str:
    with translation.override(language):
        template = Template("{% load when %}{{ moment|ago:now }}")
        return template.render(Context({"moment": NOW - delta, "now": NOW}))


@pytest.mark.parametrize(
    ("delta", "english", "chinese"),
    [
        (timedelta(seconds=20), "just now", "刚刚"),
        (timedelta(minutes=5), "5 minutes ago", "5 分钟前"),
        (timedelta(hours=5, minutes=3), "5 hours, 3 minutes ago", "5 小时 3 分钟前"),
        (timedelta(days=1), "1 day ago", "1 天前"),
        (timedelta(days=915), "2 years, 6 months ago", "2 年 6 个月前"),
        (timedelta(days=-3, hours=-4), "in 3 days, 4 hours", "3 天 4 小时后"),
    ],
)
def test_relative_times(delta, english, chinese):
    assert ago(delta, "en") == english
    assert ago(delta, "zh-hans") == chinese


def test_nothing_for_no_moment():
    assert Template("{% load when %}{{ moment|ago }}").render(Context({"moment": None})) == ""
