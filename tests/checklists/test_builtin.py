"""The five standard SOPs shipped in code (checklists/builtin.py): complete in both
languages, every item due inside a run of its template, messages with known placeholders."""

import re
from types import SimpleNamespace

import pytest

from activities.calendar.models import EntryKind
from checklists.builtin import BUILTINS, builtin_get, text_in
from checklists.due import check_item_timing
from checklists.models import DueAnchor, InputKind, ItemRole, Phase

LANGUAGES = ("en", "zh-hans")
CJK = re.compile(r"[\u4e00-\u9fff]")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
ALLOWED_PLACEHOLDERS = {"community", "date", "next_topic", "newcomers"}

ITEMS = [(builtin, item) for builtin in BUILTINS for item in builtin.items]
ITEM_IDS = [f"{builtin.key}-{n}" for builtin in BUILTINS for n in range(len(builtin.items))]


def by_key(key):
    builtin = builtin_get(key)
    assert builtin is not None
    return builtin


def check_texts(text, *, max_length=None):
    assert set(text) == set(LANGUAGES)
    for language in LANGUAGES:
        assert text[language].strip(), language
        if max_length is not None:
            assert len(text[language]) <= max_length
    assert CJK.search(text["zh-hans"])
    assert not CJK.search(text["en"])


def test_the_five_keys_and_phases():
    assert [builtin.key for builtin in BUILTINS] == [
        "planning",
        "setup",
        "growth",
        "daily",
        "activity",
    ]
    assert {builtin.key: builtin.phase for builtin in BUILTINS} == {
        "planning": Phase.PLANNING,
        "setup": Phase.SETUP,
        "growth": Phase.GROWTH,
        "daily": Phase.DAILY,
        "activity": Phase.ACTIVITY,
    }
    assert builtin_get("nope") is None


@pytest.mark.parametrize("builtin", BUILTINS, ids=lambda builtin: builtin.key)
def test_template_texts_and_run_length(builtin):
    check_texts(builtin.name, max_length=120)
    check_texts(builtin.description)
    assert 1 <= builtin.duration_days <= 90
    assert len(builtin.items) >= 7
    if builtin.phase == Phase.DAILY:
        assert builtin.duration_days == 1
    if builtin.phase == Phase.ACTIVITY:
        assert set(builtin.entry_kinds) == {"guest", "topic", "meetup", "clinic"}
        assert set(builtin.entry_kinds) <= set(EntryKind.values)
    else:
        assert builtin.entry_kinds == ()


@pytest.mark.parametrize(("builtin", "item"), ITEMS, ids=ITEM_IDS)
def test_item_texts_and_fields(builtin, item):
    check_texts(item.title, max_length=200)
    check_texts(item.guidance)
    assert item.role in ItemRole.values
    assert item.anchor in DueAnchor.values
    assert item.input_kind in InputKind.values
    assert item.weekdays and set(item.weekdays) <= set("1234567")
    assert list(item.weekdays) == sorted(set(item.weekdays))
    if builtin.phase != Phase.DAILY:
        assert item.weekdays == "1234567"
    if item.input_kind == InputKind.NONE:
        assert item.input_required


@pytest.mark.parametrize(("builtin", "item"), ITEMS, ids=ITEM_IDS)
def test_item_falls_due_inside_a_run(builtin, item):
    attributes = SimpleNamespace(
        anchor=item.anchor,
        due_time=item.due_time,
        offset_days=item.offset_days,
        offset_minutes=item.offset_minutes,
    )
    check_item_timing(phase=builtin.phase, duration_days=builtin.duration_days, item=attributes)


@pytest.mark.parametrize(("builtin", "item"), ITEMS, ids=ITEM_IDS)
def test_message_uses_only_the_known_placeholders(builtin, item):
    if not item.message:
        return
    check_texts(item.message)
    for language in LANGUAGES:
        text = item.message[language]
        assert set(PLACEHOLDER.findall(text)) <= ALLOWED_PLACEHOLDERS, text
        # No stray brace outside a placeholder (it would break the substitution).
        assert "{" not in PLACEHOLDER.sub("", text) and "}" not in PLACEHOLDER.sub("", text)
    # Both languages fill in the same things.
    assert set(PLACEHOLDER.findall(item.message["en"])) == set(
        PLACEHOLDER.findall(item.message["zh-hans"])
    )


@pytest.mark.parametrize(("builtin", "item"), ITEMS, ids=ITEM_IDS)
def test_choices_only_on_choice_items_and_alike_in_both_languages(builtin, item):
    if item.input_kind != InputKind.CHOICE:
        assert item.choices == {}
        return
    assert set(item.choices) == set(LANGUAGES)
    assert len(item.choices["en"]) == len(item.choices["zh-hans"]) >= 2
    for language in LANGUAGES:
        options = item.choices[language]
        assert all(option.strip() and "\n" not in option for option in options)
        assert len(set(options)) == len(options)
    assert all(CJK.search(option) for option in item.choices["zh-hans"])


def test_the_messages_the_sops_post():
    messages = " ".join(item.message.get("en", "") for _, item in ITEMS)
    for placeholder in ALLOWED_PLACEHOLDERS:
        assert "{" + placeholder + "}" in messages
    daily = by_key("daily")
    welcome = [item for item in daily.items if "{newcomers}" in item.message.get("zh-hans", "")]
    assert welcome
    activity = by_key("activity")
    assert any("{next_topic}" in item.message.get("zh-hans", "") for item in activity.items)


def test_daily_has_weekday_and_weekend_items():
    daily = by_key("daily")
    weekdays = {item.weekdays for item in daily.items}
    assert "1234567" in weekdays
    assert any(set(days) <= set("12345") for days in weekdays)
    assert any(set(days) <= set("67") for days in weekdays)


def test_daily_inputs():
    daily = by_key("daily")
    kinds = {item.input_kind for item in daily.items}
    assert {InputKind.NUMBER, InputKind.CHOICE} <= kinds
    mood = next(item for item in daily.items if item.input_kind == InputKind.CHOICE)
    assert mood.choices == {
        "en": ("Lively", "Normal", "Quiet"),
        "zh-hans": ("活跃", "一般", "冷清"),
    }
    assert any(not item.input_required for item in daily.items)


def test_daily_items_are_in_the_order_they_fall_due():
    times = [item.due_time for item in by_key("daily").items]
    assert times == sorted(times)


def _activity_stage(item):
    if item.anchor == DueAnchor.OCCURRENCE_START:
        return "before" if item.offset_minutes < 0 else "during"
    if item.anchor == DueAnchor.OCCURRENCE_END:
        return "during" if item.offset_minutes <= 0 else "after"
    assert item.anchor == DueAnchor.CLOCK
    return "before" if item.offset_days < 0 else "after" if item.offset_days > 0 else "during"


def test_activity_covers_before_during_and_after():
    activity = by_key("activity")
    stages = [_activity_stage(item) for item in activity.items]
    assert {"before", "during", "after"} <= set(stages)
    # Listed in order: everything before the start first, everything after the end last.
    order = {"before": 0, "during": 1, "after": 2}
    assert stages == sorted(stages, key=order.__getitem__)
    assert ItemRole.GUEST in {item.role for item in activity.items}
    # The rhythm the practice prescribes: 3 days, 1 day and 30 minutes before; a summary
    # within 30 minutes after the end.
    starts = {item.offset_minutes for item in activity.items if item.anchor == "occurrence_start"}
    assert {-3 * 24 * 60, -24 * 60, -30} <= starts
    assert any(
        item.anchor == DueAnchor.OCCURRENCE_END and 0 < item.offset_minutes <= 30
        for item in activity.items
    )


def test_manual_phases_spread_their_items_over_the_run():
    for key in ("planning", "setup", "growth"):
        builtin = by_key(key)
        days = [item.offset_days for item in builtin.items]
        assert days == sorted(days)
        assert days[-1] == builtin.duration_days - 1


def test_roles_used_sensibly():
    roles = {builtin.key: {item.role for item in builtin.items} for builtin in BUILTINS}
    assert roles["planning"] <= {ItemRole.OWNER, ItemRole.OPERATOR}
    assert roles["daily"] == {ItemRole.MODERATOR}
    assert ItemRole.SQUAD_LEADER in roles["growth"] | roles["setup"]


def test_text_in_falls_back_to_english():
    name = by_key("daily").name
    assert text_in(name, "zh-hans") == "社群日常维护SOP"
    assert text_in(name, "en") == "Daily maintenance"
    assert text_in(name, "fr") == "Daily maintenance"
