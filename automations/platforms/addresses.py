"""Which addresses a connector may send to.

A connector's URL is typed by staff and then requested by a worker inside the network, so
it must not become a way to reach the machine itself or the private network behind it
(server-side request forgery): only http(s), and a host that resolves to public addresses
only. ``allow_private`` lifts the second rule, for intranets (a self-hosted chat server on
10.x) and for the tests' stand-in server on 127.0.0.1; the connector pages read it from a
setting.

The check runs when a connector is saved (a clear error at edit time) and again before each
send, since a name's addresses can change after it was checked.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

MAX_URL_LENGTH = 2000


def url_problem(url: str, *, allow_private: bool) -> str | None:
    """Why ``url`` may not be sent to (translated), or None when it may."""
    if len(url) > MAX_URL_LENGTH:
        return _("The address is longer than %(limit)s characters.") % {"limit": MAX_URL_LENGTH}
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return _("This is not a valid address.")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return _("The address must start with http:// or https://.")
    if parts.username or parts.password:
        return _("Put credentials in their own fields, not in the address.")
    if allow_private:
        return None
    try:
        infos = socket.getaddrinfo(parts.hostname, port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return _("The host name %(host)s does not resolve.") % {"host": parts.hostname}
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if not address.is_global or address.is_multicast:
            return _(
                "%(host)s resolves to a loopback or private address (%(address)s); only public "
                "addresses are allowed."
            ) % {"host": parts.hostname, "address": address}
    return None
