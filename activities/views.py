from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from communities.permissions import Capability, staff_required
from communities.shortcuts import HtmxHttpRequest, render_coming_soon


@require_GET
@staff_required(Capability.VIEW_COMMUNITIES)
def calendar(request: HtmxHttpRequest):
    return render_coming_soon(
        request,
        nav="calendar",
        title=_("Calendar"),
        lead=_("The rhythm of every group (栏目化运营) on one calendar."),
        items=[
            _("Daily check-ins, scheduled topic discussions, guest talks and meetups."),
            _("Recurring columns such as a morning post or a weekly Q&A clinic."),
            _("RSVPs and attendance, which feed each group's action power."),
        ],
    )


@require_GET
@staff_required(Capability.VIEW_COMMUNITIES)
def checklists(request: HtmxHttpRequest):
    return render_coming_soon(
        request,
        nav="checklists",
        title=_("Checklists"),
        lead=_("Standard operating procedures (SOP) turned into checklists."),
        items=[
            _("A daily maintenance list for each community you are assigned to."),
            _("Before, during and after lists for every activity."),
            _("Ticking items in place, with completion shown to managers."),
        ],
    )


@require_GET
@staff_required(Capability.MANAGE_COMMUNITIES)
def actions(request: HtmxHttpRequest):
    return render_coming_soon(
        request,
        nav="actions",
        title=_("Actions"),
        lead=_("What the background workers do for you, on time and exactly once."),
        items=[
            _("Scheduled broadcasts and announcements to one group or many."),
            _("Welcome messages for newcomers and keyword auto-replies."),
            _("A delivery log for every message sent."),
        ],
    )


@require_GET
@staff_required(Capability.MANAGE_COMMUNITIES)
def imports(request: HtmxHttpRequest):
    return render_coming_soon(
        request,
        nav="imports",
        title=_("Imports"),
        lead=_("Bring your groups' history in, so the figures are real."),
        items=[
            _("Chat exports from Telegram, Slack, Discord, WhatsApp and WeChat, and CSV."),
            _("A live progress bar and an import history."),
            _("Signed webhooks for chat bots that send events as they happen."),
        ],
    )
