"""The shared input rules: the supported dates, database ids, services' errors on forms."""

from datetime import date

import pytest
from django import forms
from django.core.exceptions import ValidationError

from communities.forms import add_service_error
from communities.validators import (
    DATABASE_ID_MAX,
    BoundedDateField,
    database_id,
    validate_date_in_range,
)


@pytest.mark.parametrize("day", [date(2000, 1, 1), date(2026, 6, 1), date(2999, 12, 31)])
def test_dates_inside_the_bounds_pass(day):
    validate_date_in_range(day)


@pytest.mark.parametrize("day", [date(1, 1, 1), date(1999, 12, 31), date(3000, 1, 1)])
def test_dates_outside_the_bounds_are_refused(day):
    with pytest.raises(ValidationError) as caught:
        validate_date_in_range(day)
    assert caught.value.messages == ["Dates must lie between 2000-01-01 and 2999-12-31."]


def test_a_date_input_says_its_bounds():
    class Form(forms.Form):
        day = BoundedDateField(widget=forms.DateInput(attrs={"type": "date"}))

    html = str(Form()["day"])
    assert 'min="2000-01-01"' in html and 'max="2999-12-31"' in html


@pytest.mark.parametrize("value", ["1", " 42 ", str(DATABASE_ID_MAX)])
def test_database_ids(value):
    assert database_id(value) == int(value)


@pytest.mark.parametrize(
    "value", ["0", "-1", str(DATABASE_ID_MAX + 1), "9" * 5000, "1.0", "1e3", "١", "", "x"]
)
def test_not_database_ids(value):
    with pytest.raises(ValueError):
        database_id(value)


class NameForm(forms.Form):
    name = forms.CharField()


def test_a_service_error_on_a_field_the_form_lacks_is_a_non_field_error():
    form = NameForm({"name": "x"})
    assert form.is_valid()
    add_service_error(form, ValidationError({"name": "Taken.", "kind": "Blank."}))
    assert form.errors == {"name": ["Taken."], "__all__": ["Blank."]}


def test_a_service_error_can_be_mapped_to_the_forms_names():
    form = NameForm({"name": "x"})
    assert form.is_valid()
    add_service_error(form, ValidationError({"tag_name": "Taken."}), {"tag_name": "name"}.get)
    add_service_error(form, ValidationError("Above the form."))
    assert form.errors == {"name": ["Taken."], "__all__": ["Above the form."]}
