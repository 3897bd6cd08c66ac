"""Bounds on what people type, one source each: the dates the product computes with, and
database ids. Every form and the metrics API take them from here (a lower layer, so every
app may import it).

Dates: a date range, a cohort week or an activity time outside these bounds is refused
with a message, not computed with. Python's dates end at year 1 and 9999, and the pages
step back and forth from the dates they are given (weeks, 28-day windows, a default range),
so a far date would otherwise overflow in the middle of a query.
"""

from __future__ import annotations

from datetime import date, datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2999, 12, 31)

# The largest primary key: BigAutoField, SQLite's INTEGER and PostgreSQL's bigint alike.
DATABASE_ID_MAX = 2**63 - 1


def date_in_range(value: date | datetime) -> bool:
    day = value.date() if isinstance(value, datetime) else value
    return EARLIEST_DATE <= day <= LATEST_DATE


def validate_date_in_range(value: date | datetime) -> None:
    """Refuse a date (or a time, by its date) outside ``EARLIEST_DATE`` … ``LATEST_DATE``."""
    if not date_in_range(value):
        raise ValidationError(
            _("Dates must lie between %(earliest)s and %(latest)s."),
            code="date_range",
            params={"earliest": EARLIEST_DATE.isoformat(), "latest": LATEST_DATE.isoformat()},
        )


class BoundedDateField(forms.DateField):
    """A ``DateField`` that refuses dates outside the supported range; a date input says
    the bounds (``min``/``max``) too."""

    default_validators = [validate_date_in_range]

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        if getattr(widget, "input_type", None) == "date":
            attrs.update(min=EARLIEST_DATE.isoformat(), max=LATEST_DATE.isoformat())
        return attrs


class BoundedDateTimeField(forms.DateTimeField):
    """A ``DateTimeField`` that refuses times outside the supported range of dates."""

    default_validators = [validate_date_in_range]

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        if getattr(widget, "input_type", None) == "datetime-local":
            attrs.update(min=f"{EARLIEST_DATE.isoformat()}T00:00", max=f"{LATEST_DATE}T23:59")
        return attrs


def database_id(value) -> int:
    """An id typed or sent by a page, as an int a primary key can hold.

    Raises ``ValueError`` otherwise, so it works as the ``coerce`` of a typed choice field
    (which turns that into "Select a valid choice")."""
    text = str(value).strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 19):
        raise ValueError(value)
    number = int(text)
    if not 1 <= number <= DATABASE_ID_MAX:
        raise ValueError(value)
    return number


class BoundedModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """A ``ModelMultipleChoiceField`` whose ids are checked with ``database_id`` before the
    query: Django looks them up with ``pk__in``, which overflows on a number no key can
    hold (single lookups are safe: Django turns those into an empty result)."""

    def _check_values(self, value):
        if self.to_field_name is None:
            for pk in value:
                try:
                    database_id(pk)
                except ValueError:
                    raise ValidationError(
                        self.error_messages["invalid_pk_value"],
                        code="invalid_pk_value",
                        params={"pk": pk},
                    ) from None
        return super()._check_values(value)


# The longest date range a page's filter takes: two years, a leap day included.
MAX_RANGE_DAYS = 731


class DateRangeFormMixin:
    """A form's ``from`` / ``to`` query dates (``?from=YYYY-MM-DD&to=YYYY-MM-DD``): the two
    bounded fields, their order and the longest range, for every page with a date range
    (the analytics pages, the checklists' team view). ``from`` is a Python keyword, so the
    fields are added by ``add_range_fields`` in the form's ``__init__``; ``clean`` checks
    the range after the fields."""

    def add_range_fields(self) -> None:
        # In context: the catalogue's plain "From" / "To" are a tier change's.
        dates = (
            ("from", pgettext_lazy("date range", "From")),
            ("to", pgettext_lazy("date range", "To")),
        )
        for name, label in dates:
            self.fields[name] = BoundedDateField(
                label=label,
                input_formats=["%Y-%m-%d"],
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("from"), cleaned.get("to")
        if start is None or end is None:
            return cleaned
        if start > end:
            raise forms.ValidationError(
                _("The start date must be on or before the end date."), code="order"
            )
        if (end - start).days + 1 > MAX_RANGE_DAYS:
            raise forms.ValidationError(_("Choose a range of at most two years."), code="too_long")
        return cleaned

    @property
    def start(self) -> date:
        return self.cleaned_data["from"]

    @property
    def end(self) -> date:
        return self.cleaned_data["to"]
