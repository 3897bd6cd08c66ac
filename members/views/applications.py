"""Entry applications (入群门槛): the questionnaire, recording answers, the review queue.

Who does what:
- owners and operators (``MANAGE_COMMUNITIES``) edit a community's questionnaire and
  decide applications (approve or reject);
- moderators record applications (``MODERATE_MEMBERS``) for the communities assigned to
  them, because they are the ones talking to applicants in the groups; they see the queue
  of those communities but do not decide;
- managers see the queue (``VIEW_COMMUNITIES``), read-only.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from communities.forms import add_service_error
from communities.models import Community
from communities.permissions import Capability, communities_for, has_capability, staff_required
from communities.shortcuts import HtmxHttpRequest
from members import selectors, services
from members.forms_applications import (
    ApplicationForm,
    DecisionForm,
    QuestionActionForm,
    QuestionForm,
    QueueFilterForm,
    RejectForm,
)
from members.models import Application, ApplicationStatus
from members.views.apply import public_url

TEMPLATE = "members/applications.html"


def _answer_rows(application: Application) -> list[tuple[str, str]]:
    """(question, answer) in questionnaire order; answers to removed questions come last."""
    rows = []
    answers = dict(application.answers or {})
    for question in application.community.questions.all():
        answer = answers.pop(str(question.pk), None)
        if answer in (None, "", []):
            continue
        rows.append((question.prompt, "、".join(answer) if isinstance(answer, list) else answer))
    for answer in answers.values():
        if answer not in (None, "", []):
            text = "、".join(answer) if isinstance(answer, list) else str(answer)
            rows.append((_("(removed question)"), text))
    return rows


def _queue_url(community: Community | None = None) -> str:
    url = reverse("members:applications")
    return f"{url}?community={community.slug}" if community else url


def _back_to_queue(request: HtmxHttpRequest, form: DecisionForm) -> str:
    wanted = form.cleaned_data.get("next", "") if form.is_valid() else ""
    # A path of this site only: anything else (even a relative "x") is not where we came from.
    if wanted.startswith("/") and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return _queue_url()


def _row(request: HtmxHttpRequest, application: Application, **extra) -> HttpResponse:
    """The application's row alone, for htmx to swap in place of the old one."""
    application.answer_rows = _answer_rows(application)
    context = {
        "application": application,
        "can_manage": has_capability(request.staff, Capability.MANAGE_COMMUNITIES),
        "return_to": _queue_url(),
        "inline_messages": True,
        **extra,
    }
    return render(request, f"{TEMPLATE}#application-row", context)


@require_GET
@vary_on_headers("HX-Request")
@staff_required(Capability.VIEW_COMMUNITIES)
def application_list(request: HtmxHttpRequest):
    """The review queue: one status at a time, optionally one community.

    Moderators see only their communities (the selector goes through communities_for).
    """
    communities = list(communities_for(request.staff).order_by("name"))
    form = QueueFilterForm(request.GET, communities=communities)
    community, status = form.chosen_community, form.chosen_status
    applications = selectors.application_queue(staff=request.staff, status=status)
    if community is not None:
        applications = applications.filter(community=community)
    if status != ApplicationStatus.PENDING:
        applications = applications.order_by("-reviewed_at", "-id")
    # Each row shows the answers against the questionnaire: one query for all of them.
    applications = list(applications.prefetch_related("community__questions"))
    for application in applications:
        application.answer_rows = _answer_rows(application)
    template = TEMPLATE
    if request.htmx and not request.htmx.boosted:
        template += "#queue"
    return render(
        request,
        template,
        {
            "nav": "members",
            "form": form,
            "community": community,
            "status": status,
            "statuses": ApplicationStatus.choices,
            "applications": applications,
            "can_manage": has_capability(request.staff, Capability.MANAGE_COMMUNITIES),
            "can_record": has_capability(request.staff, Capability.MODERATE_MEMBERS),
            "return_to": request.get_full_path(),
        },
    )


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def application_approve(request: HtmxHttpRequest, application: Application):
    form = DecisionForm(request.POST)
    try:
        services.application_approve(application=application, by=request.user)
    except ValidationError as error:
        if request.htmx:
            application.refresh_from_db()
            return _row(request, application, decision_errors=error.messages)
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("“%(name)s” is now a member of %(community)s.")
            % {"name": application.display_name, "community": application.community.name},
        )
        if request.htmx:
            application.refresh_from_db()
            return _row(request, application)
    return redirect(_back_to_queue(request, form))


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def application_reject(request: HtmxHttpRequest, application: Application):
    form = RejectForm(request.POST)
    errors: list[str] = []
    if form.is_valid():
        try:
            services.application_reject(
                application=application, by=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            errors = error.messages
    else:
        errors = form.errors.get("reason", [])
    if not errors:
        messages.success(
            request,
            _("Application from “%(name)s” rejected.") % {"name": application.display_name},
        )
    if request.htmx:
        application.refresh_from_db()
        return _row(request, application, reject_errors=errors, reason=request.POST.get("reason"))
    for message in errors:
        messages.error(request, message)
    return redirect(_back_to_queue(request, form))


@require_http_methods(["GET", "POST"])
@staff_required(Capability.MODERATE_MEMBERS)
def application_create(request: HtmxHttpRequest, community: Community):
    """Record what an applicant answered in the chat; it then waits in the review queue.

    Moderators may record (they talk to applicants in their groups); only owners and
    operators decide.
    """
    questions = list(community.questions.all())
    form = ApplicationForm(
        request.POST if request.method == "POST" else None,
        community=community,
        questions=questions,
    )
    if request.method == "POST" and form.is_valid():
        try:
            application = services.application_submit(
                community=community,
                display_name=form.cleaned_data["display_name"],
                platform=form.cleaned_data["platform"],
                external_id=form.cleaned_data["external_id"],
                answers=form.answers(),
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                _("Application from “%(name)s” recorded; it waits for review.")
                % {"name": application.display_name},
            )
            return redirect(_queue_url(community))
    return render(
        request,
        "members/application_form.html",
        {
            "nav": "members",
            "form": form,
            "community": community,
            "can_manage": has_capability(request.staff, Capability.MANAGE_COMMUNITIES),
        },
    )


@require_http_methods(["GET", "POST"])
@staff_required(Capability.MANAGE_COMMUNITIES)
def questions(request: HtmxHttpRequest, community: Community):
    """The community's entry questionnaire: add a question, delete one, move one.

    Deleting a question keeps the answers already recorded (the queue shows them under
    “removed question”); approving no longer turns them into tags.
    """
    form = QuestionForm()
    link = services.application_link_get(community=community)
    if request.method == "POST" and "action" in request.POST:
        action_form = QuestionActionForm(request.POST, community=community)
        if not action_form.is_valid():
            messages.error(request, _("That question is no longer in the questionnaire."))
            return redirect("members:questions", community_slug=community.slug)
        question = action_form.cleaned_data["question"]
        action = action_form.cleaned_data["action"]
        if action == "delete":
            services.question_delete(question=question)
            messages.success(
                request, _("Question “%(prompt)s” deleted.") % {"prompt": question.prompt}
            )
        else:
            services.question_move(question=question, offset=QuestionActionForm.ACTIONS[action])
        return redirect("members:questions", community_slug=community.slug)
    if request.method == "POST":
        form = QuestionForm(request.POST)
        if form.is_valid():
            try:
                question = services.question_create(community=community, **form.cleaned_data)
            except ValidationError as error:
                add_service_error(form, error)
            else:
                messages.success(
                    request, _("Question “%(prompt)s” added.") % {"prompt": question.prompt}
                )
                return redirect("members:questions", community_slug=community.slug)
    return render(
        request,
        "members/questions.html",
        {
            "nav": "members",
            "community": community,
            "questions": list(community.questions.all()),
            "form": form,
            "link": link,
            "link_url": public_url(request, link),
            "can_manage": has_capability(request.staff, Capability.MANAGE_COMMUNITIES),
        },
    )
