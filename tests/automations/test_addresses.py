"""Connector addresses: http(s) only, and public hosts unless intranets are allowed."""

import pytest

from automations.platforms.addresses import url_problem


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://example.com/hook", "must start with http:// or https://"),
        ("javascript:alert(1)", "must start with http:// or https://"),
        ("https://user:pw@example.com/", "credentials in their own fields"),
        ("http://127.0.0.1:8080/hook", "loopback or private address (127.0.0.1)"),
        ("http://10.1.2.3/hook", "loopback or private address (10.1.2.3)"),
        ("http://[::1]/hook", "loopback or private address (::1)"),
        ("http://169.254.169.254/latest/meta-data", "loopback or private address"),
        ("http://localhost/hook", "loopback or private address"),
        ("http://0.0.0.0/hook", "loopback or private address"),
        ("https://example.com:99999/", "not a valid address"),
        ("https://" + "a" * 2001, "longer than 2000 characters"),
    ],
)
def test_refused_addresses_say_why(url, problem):
    assert problem in url_problem(url, allow_private=False)


def test_a_public_address_is_allowed_and_the_setting_allows_intranets():
    assert url_problem("https://8.8.8.8/hook", allow_private=False) is None
    assert url_problem("http://127.0.0.1:8080/hook", allow_private=True) is None
    assert "must start with" in url_problem("file:///etc/passwd", allow_private=True)


def test_a_name_that_does_not_resolve_is_refused():
    assert "does not resolve" in url_problem("https://no-such-host.invalid/", allow_private=False)
