"""What the apps' views share: the type of the request they see."""

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from communities.models import Staff


class HtmxHttpRequest(HttpRequest):
    """The request our views see: django-htmx details, and the staff set by permissions."""

    htmx: HtmxDetails
    staff: Staff
