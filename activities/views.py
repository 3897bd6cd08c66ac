from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from activities import selectors, services
from activities.forms import ActivityEntryForm, ImportForm
from activities.importers.base import skipped_summary
from activities.models import ImportFormat, ImportRun
from activities.uploads import ImportUploadLimit
from communities.permissions import Capability, communities_for, staff_required
from communities.shortcuts import HtmxHttpRequest
from members.models import Membership


# The CSRF check reads the body, so it runs in _imports, once the upload limit is in place.
@csrf_exempt
@require_http_methods(["GET", "POST"])
@staff_required(Capability.MANAGE_COMMUNITIES)
def imports(request: HtmxHttpRequest):
    upload_limit = ImportUploadLimit(request)
    request.upload_handlers.insert(0, upload_limit)
    return _imports(request, upload_limit)


@csrf_protect
def _imports(request: HtmxHttpRequest, upload_limit: ImportUploadLimit):
    posted = request.method == "POST"
    form = ImportForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        communities=communities_for(request.staff).filter(archived=False),
        initial={"community": request.GET.get("community")},
        upload_refused=upload_limit.refused,
    )
    if request.method == "POST" and form.is_valid():
        run = services.import_create(
            community=form.cleaned_data["community"],
            format=form.cleaned_data["format"],
            upload=form.cleaned_data["file"],
            source_name=form.cleaned_data["source_name"],
            time_zone=form.cleaned_data["time_zone"],
            by=request.user,
            language=translation.get_language() or settings.LANGUAGE_CODE,
        )
        return redirect("activities:import", import_id=run.pk)
    return render(
        request,
        "activities/imports.html",
        {
            "nav": "imports",
            "form": form,
            "runs": selectors.import_list(staff=request.staff),
            "formats": ImportFormat,
        },
    )


@require_GET
@vary_on_headers("HX-Request")
@staff_required(Capability.MANAGE_COMMUNITIES)
def import_detail(request: HtmxHttpRequest, import_run: ImportRun):
    template = "activities/import.html"
    if request.htmx and not request.htmx.boosted:
        template += "#import-status"
    return render(
        request,
        template,
        {
            "nav": "imports",
            "run": import_run,
            "progress": selectors.import_progress(run=import_run),
            "skipped": skipped_summary(import_run.skipped or {}),
            "can_retry": services.import_can_retry(import_run),
        },
    )


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def import_retry(request: HtmxHttpRequest, import_run: ImportRun):
    """ "Try again" on a failed import whose file is still stored: a new run, queued."""
    try:
        retry = services.import_retry(
            run=import_run,
            by=request.user,
            language=translation.get_language() or settings.LANGUAGE_CODE,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("activities:import", import_id=import_run.pk)
    messages.success(request, _("The file is queued again."))
    return redirect("activities:import", import_id=retry.pk)


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def record_activity(request: HtmxHttpRequest, membership: Membership):
    form = ActivityEntryForm(request.POST, prefix=f"a{membership.pk}")
    # The time typed is the community's local time, whatever the server's zone.
    with timezone.override(ZoneInfo(membership.community.time_zone)):
        valid = form.is_valid()
    if valid:
        try:
            services.manual_event_record(
                membership=membership,
                kind=form.cleaned_data["kind"],
                occurred_at=form.cleaned_data["occurred_at"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Activity recorded."))
    else:
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
    return redirect("members:profile", member_id=membership.member_id)
