"""Settings → API tokens: each staff member's own keys for the metrics API.

Who may have a token: whoever may view analytics (``VIEW_ANALYTICS``), since that is all
a token can do; it acts with its owner's role and communities as they are at each call.
The key appears once, in the response that creates it; only its digest is stored.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from communities.forms import add_service_error
from communities.models import ApiToken
from communities.permissions import Capability, staff_required
from communities.shortcuts import HtmxHttpRequest
from communities.tokens import api_token_create, api_token_revoke
from communities.validators import database_id


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=ApiToken._meta.get_field("name").max_length,
        help_text=gettext_lazy("What uses it, e.g. “weekly report script”."),
    )


def _tokens_page(request: HtmxHttpRequest, form: ApiTokenForm, issued=None):
    return render(
        request,
        "analytics/tokens.html",
        {
            "nav": "settings",
            "form": form,
            "tokens": ApiToken.objects.filter(staff=request.staff),
            "issued": issued,
            "api_root": request.build_absolute_uri(reverse("api:communities")),
            "openapi_url": reverse("api:openapi"),
        },
    )


@require_GET
@staff_required(Capability.VIEW_ANALYTICS)
def token_list(request: HtmxHttpRequest):
    return _tokens_page(request, ApiTokenForm())


@require_POST
@staff_required(Capability.VIEW_ANALYTICS)
def token_create(request: HtmxHttpRequest):
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        try:
            token, key = api_token_create(staff=request.staff, name=form.cleaned_data["name"])
        except ValidationError as error:
            add_service_error(form, error)
        else:
            # The key is in this response only; no page shows it again.
            return _tokens_page(request, ApiTokenForm(), issued={"token": token, "key": key})
    return _tokens_page(request, form)


@require_POST
@staff_required(Capability.VIEW_ANALYTICS)
def token_revoke(request: HtmxHttpRequest):
    try:
        token_id = database_id(request.POST.get("token", ""))
    except ValueError:
        raise Http404 from None
    token = ApiToken.objects.filter(staff=request.staff, pk=token_id).first()
    if token is None:  # someone else's token is as unknown as a missing one
        raise Http404
    api_token_revoke(token=token)
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("tokens:list")
