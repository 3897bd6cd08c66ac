"""The first run of a fresh installation, and further organisations for owners.

While no organisation exists, ``/setup/`` creates the first one and its owner (and the
login page sends there); from the moment one exists the page is a 404 for good. Two
simultaneous submissions cannot both win: the service locks before it checks
(``services.organization_first_run``).
"""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from communities import services
from communities.forms import FirstRunForm, OrganizationForm, add_service_error
from communities.models import Organization
from communities.permissions import SESSION_ORGANIZATION_KEY, Capability, staff_required
from communities.shortcuts import HtmxHttpRequest

# The account the first run signs in was just made with a password: Django's own backend.
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def first_run_pending() -> bool:
    return not Organization.objects.exists()


def unless_first_run(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Send a page's visitors to the first run while the installation has no organisation
    (the login page: nobody could sign in yet). Only GET: a form posted still gets its answer."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "GET" and first_run_pending():
            return redirect("first-run")
        return view(request, *args, **kwargs)

    return wrapped


def _language_choice() -> str:
    language = get_language() or "zh-hans"
    return "en" if language.startswith("en") else "zh-hans"


@require_http_methods(["GET", "POST"])
def first_run(request: HttpRequest):
    if not first_run_pending():
        raise Http404
    form = FirstRunForm(request.POST or None, initial={"language": _language_choice()})
    if request.method == "POST" and form.is_valid():
        try:
            organization = services.organization_first_run(**form.service_arguments())
        except services.FirstRunDone:
            raise Http404 from None  # another submission won the race
        except ValidationError as error:
            add_service_error(form, error, FirstRunForm.field_for)
        else:
            owner = organization.staff.get().user
            login(request, owner, backend=MODEL_BACKEND)
            request.session[SESSION_ORGANIZATION_KEY] = organization.pk
            messages.success(
                request,
                _("Welcome! “%(name)s” is ready; add its first community next.")
                % {"name": organization.name},
            )
            return redirect(settings.LOGIN_REDIRECT_URL)  # the home page, whichever app has it
    return render(request, "communities/setup.html", {"form": form})


@require_http_methods(["GET", "POST"])
@staff_required(Capability.MANAGE_ORGANIZATION)
def organization_create(request: HtmxHttpRequest):
    """A further organisation, owned by the owner who creates it; they switch to it."""
    current = request.staff.organization
    form = OrganizationForm(
        request.POST or None,
        initial={
            "time_zone": current.time_zone,
            "currency": current.currency,
            "language": current.language,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            organization = services.organization_create_for_owner(
                owner=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            request.session[SESSION_ORGANIZATION_KEY] = organization.pk
            messages.success(
                request,
                _("Organisation “%(name)s” created; you are its owner and now work in it.")
                % {"name": organization.name},
            )
            return redirect("settings")
    return render(request, "communities/organization_form.html", {"nav": "settings", "form": form})
