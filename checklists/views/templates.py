"""The template pages: the organisation's SOP templates and the five built-ins, a
template's settings and items (add, edit, delete, reorder), the communities using it, a
preview of a run, and starting a run by hand.

Viewing needs ``VIEW_COMMUNITIES``; every change ``MANAGE_COMMUNITIES`` (owners and
operators). Each change goes through ``services.templates`` and raises the template's
version; runs already made keep their copy of the items.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from checklists import builtin as builtins
from checklists.describe import applies_on, due_in_words
from checklists.forms_templates import (
    CopyBuiltinForm,
    ItemForm,
    MoveForm,
    PreviewForm,
    RunStartForm,
    TemplateCreateForm,
    TemplateForm,
    TemplateUseForm,
    TemplateUseRemoveForm,
)
from checklists.models import (
    MANUAL_PHASES,
    InputKind,
    ItemRole,
    Phase,
    SopItem,
    SopTemplate,
    TemplateUse,
)
from checklists.selectors.preview import run_preview
from checklists.services import runs as run_services
from checklists.services import templates as services
from communities.forms import add_service_error
from communities.models import AnnouncementLanguage
from communities.permissions import Capability, communities_for, has_capability, staff_required
from communities.shortcuts import HtmxHttpRequest

DETAIL = "checklists/templates/detail.html"
PLACEHOLDERS = ("{community}", "{date}", "{next_topic}", "{newcomers}")


def interface_language() -> str:
    """The reader's interface language as a template language (Chinese or English)."""
    language = translation.get_language() or "en"
    return (
        AnnouncementLanguage.CHINESE if language.startswith("zh") else AnnouncementLanguage.ENGLISH
    )


def _can_manage(request: HtmxHttpRequest) -> bool:
    return has_capability(request.staff, Capability.MANAGE_COMMUNITIES)


def _template_url(template: SopTemplate, anchor: str = "") -> str:
    url = reverse("checklists:template", kwargs={"template_id": template.pk})
    return f"{url}#{anchor}" if anchor else url


# --- The list ----------------------------------------------------------------------------


def _builtin_rows(language: str) -> list[dict]:
    return [
        {
            "key": builtin.key,
            "name": builtins.text_in(builtin.name, language),
            "description": builtins.text_in(builtin.description, language),
            "phase": Phase(builtin.phase).label,
            "items": len(builtin.items),
        }
        for builtin in builtins.BUILTINS
    ]


def _list_context(request: HtmxHttpRequest, **extra) -> dict:
    templates = list(
        SopTemplate.objects.filter(organization_id=request.staff.organization_id)
        .annotate(item_count=Count("items", distinct=True))
        .prefetch_related(
            Prefetch(
                "uses",
                queryset=TemplateUse.objects.select_related("community").order_by(
                    "community__name", "pk"
                ),
            )
        )
        .order_by("name", "pk")
    )
    groups = [
        (label, [template for template in templates if template.phase == phase])
        for phase, label in Phase.choices
    ]
    language = interface_language()
    context = {
        "nav": "checklists",
        "groups": [(label, rows) for label, rows in groups if rows],
        "has_templates": bool(templates),
        "builtins": _builtin_rows(language),
        "copy_language": language,
        "languages": AnnouncementLanguage.choices,
        "can_manage": _can_manage(request),
    }
    if context["can_manage"] and "create_form" not in extra:
        context["create_form"] = TemplateCreateForm(initial={"language": language})
    context.update(extra)
    return context


@require_GET
@staff_required(Capability.VIEW_COMMUNITIES)
def template_list(request: HtmxHttpRequest):
    return render(request, "checklists/templates/list.html", _list_context(request))


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def template_create(request: HtmxHttpRequest):
    form = TemplateCreateForm(request.POST)
    if form.is_valid():
        try:
            template = services.template_create(
                organization=request.staff.organization, data=form.cleaned_data, by=request.user
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Template created. Now add its items."))
            return redirect(_template_url(template))
    return render(
        request,
        "checklists/templates/list.html",
        _list_context(request, create_form=form),
        status=400,
    )


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def template_copy(request: HtmxHttpRequest):
    """Copy a built-in SOP in the chosen language; its page is where to edit it."""
    form = CopyBuiltinForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a built-in template and the language of the copy."))
        return redirect("checklists:templates")
    try:
        template = services.template_copy_builtin(
            organization=request.staff.organization,
            key=form.cleaned_data["key"],
            language=form.cleaned_data["language"],
            by=request.user,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("checklists:templates")
    messages.success(
        request,
        _("“%(name)s” copied. It is yours to edit; the built-in stays as it is.")
        % {"name": template.name},
    )
    return redirect(_template_url(template))


def _builtin_items(builtin, language: str) -> list[dict]:
    return [
        {
            "title": builtins.text_in(item.title, language),
            "guidance": builtins.text_in(item.guidance, language),
            "role": item.role,
            "due": due_in_words(item, builtin.phase),
            "weekdays": applies_on(item, builtin.phase),
            "input_kind": item.input_kind,
            "input_required": item.input_required,
            "choices": list(item.choices.get(language) or item.choices.get("en", ())),
            "message": builtins.text_in(item.message, language) if item.message else "",
        }
        for item in builtin.items
    ]


@require_GET
@staff_required(Capability.VIEW_COMMUNITIES)
def builtin_preview(request: HtmxHttpRequest, builtin_key: str):
    builtin = builtins.builtin_get(builtin_key)
    if builtin is None:
        raise Http404
    language = interface_language()
    return render(
        request,
        "checklists/templates/builtin.html",
        {
            "nav": "checklists",
            "builtin": builtin,
            "name": builtins.text_in(builtin.name, language),
            "description": builtins.text_in(builtin.description, language),
            "phase": Phase(builtin.phase).label,
            "manual": builtin.phase in MANUAL_PHASES,
            "items": _builtin_items(builtin, language),
            "roles": dict(ItemRole.choices),
            "input_kinds": dict(InputKind.choices),
            "copy_language": language,
            "languages": AnnouncementLanguage.choices,
            "can_manage": _can_manage(request),
        },
    )


# --- A template's page -------------------------------------------------------------------


def _item_rows(template: SopTemplate) -> list[dict]:
    items = list(template.items.order_by("position", "pk"))
    return [
        {
            "item": item,
            "due": due_in_words(item, template.phase),
            "weekdays": applies_on(item, template.phase),
            "first": index == 0,
            "last": index == len(items) - 1,
        }
        for index, item in enumerate(items)
    ]


def _page_context(request: HtmxHttpRequest, template: SopTemplate, **extra) -> dict:
    can_manage = _can_manage(request)
    staff = request.staff
    uses = list(
        template.uses.select_related("community", "assignee__user").order_by(
            "community__name", "pk"
        )
    )
    context = {
        "nav": "checklists",
        "template": template,
        "items": _item_rows(template),
        "uses": uses,
        "can_manage": can_manage,
        "manual": template.phase in MANUAL_PHASES,
        "placeholders": PLACEHOLDERS,
    }
    if can_manage:
        context.setdefault("settings_form", TemplateForm(template=template))
        context["use_form"] = TemplateUseForm(staff=staff, auto_id="use_%s")
        if template.phase in MANUAL_PHASES:
            context["start_form"] = RunStartForm(staff=staff, auto_id="start_%s")
    context.update(extra)
    return context


@require_GET
@vary_on_headers("HX-Request")
@staff_required(Capability.VIEW_COMMUNITIES)
def template_page(request: HtmxHttpRequest, template: SopTemplate):
    name = DETAIL
    if request.htmx and not request.htmx.boosted:
        name += "#item-list"
    return render(request, name, _page_context(request, template))


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def template_edit(request: HtmxHttpRequest, template: SopTemplate):
    form = TemplateForm(request.POST, template=template)
    if form.is_valid():
        try:
            template = services.template_update(template=template, data=form.service_data())
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request, _("Saved: version %(version)d.") % {"version": template.version}
            )
            return redirect(_template_url(template))
    template.refresh_from_db()
    return render(request, DETAIL, _page_context(request, template, settings_form=form), status=400)


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def template_delete(request: HtmxHttpRequest, template: SopTemplate):
    name = template.name
    services.template_delete(template=template)
    messages.success(
        request,
        _("Template “%(name)s” deleted. Its runs keep their items and history.") % {"name": name},
    )
    return redirect("checklists:templates")


# --- Items ---------------------------------------------------------------------------------


def _item_form_page(request, template: SopTemplate, form: ItemForm, item: SopItem | None, status):
    return render(
        request,
        "checklists/templates/item_form.html",
        {
            "nav": "checklists",
            "template": template,
            "item": item,
            "form": form,
            "placeholders": PLACEHOLDERS,
        },
        status=status,
    )


def _item_save(request: HtmxHttpRequest, template: SopTemplate, item: SopItem | None):
    form = ItemForm(request.POST or None, template=template, item=item)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.item_save(template=template, item=item, data=form.service_data())
        except ValidationError as error:
            add_service_error(form, error, ItemForm.field_for)
        else:
            template.refresh_from_db(fields=["version"])
            messages.success(
                request,
                _("Item “%(title)s” saved: version %(version)d.")
                % {"title": saved.title, "version": template.version},
            )
            return redirect(_template_url(template, "items"))
    status = 400 if request.method == "POST" else 200
    return _item_form_page(request, template, form, item, status)


@require_http_methods(["GET", "POST"])
@staff_required(Capability.MANAGE_COMMUNITIES)
def item_create(request: HtmxHttpRequest, template: SopTemplate):
    return _item_save(request, template, None)


@require_http_methods(["GET", "POST"])
@staff_required(Capability.MANAGE_COMMUNITIES)
def item_edit(request: HtmxHttpRequest, sop_item: SopItem):
    return _item_save(request, sop_item.template, sop_item)


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def item_delete(request: HtmxHttpRequest, sop_item: SopItem):
    template = sop_item.template
    services.item_delete(item=sop_item)
    messages.success(request, _("Item “%(title)s” deleted.") % {"title": sop_item.title})
    return redirect(_template_url(template, "items"))


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def item_move(request: HtmxHttpRequest, sop_item: SopItem):
    """One place up or down (buttons), or to a position (drag and drop); htmx gets the
    item list back."""
    template = sop_item.template
    form = MoveForm(request.POST)
    error = None
    if form.is_valid():
        current = list(template.items.order_by("position", "pk").values_list("pk", flat=True))
        index = current.index(sop_item.pk) + 1
        to = form.cleaned_data["position"]
        if to is None:
            to = index - 1 if form.cleaned_data["direction"] == "up" else index + 1
        if 1 <= to <= len(current) and to != index:
            services.item_move(item=sop_item, to=to)
    else:
        error = " ".join(message for errors in form.errors.values() for message in errors)
    template.refresh_from_db()
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect(_template_url(template, "items"))
    context = _page_context(request, template, move_error=error)
    return render(request, f"{DETAIL}#item-list", context, status=400 if error else 200)


# --- Communities using it ------------------------------------------------------------------


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def template_use(request: HtmxHttpRequest, template: SopTemplate):
    form = TemplateUseForm(request.POST, staff=request.staff, auto_id="use_%s")
    if form.is_valid():
        community = form.cleaned_data["community"]
        try:
            services.template_use_set(
                template=template, community=community, assignee=form.cleaned_data["assignee"]
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                _("%(community)s uses “%(template)s”.")
                % {"community": community.name, "template": template.name},
            )
            return redirect(_template_url(template, "uses"))
    return render(request, DETAIL, _page_context(request, template, use_form=form), status=400)


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def template_use_remove(request: HtmxHttpRequest, template: SopTemplate):
    form = TemplateUseRemoveForm(request.POST, template=template, staff=request.staff)
    if form.is_valid():
        community = form.cleaned_data["community"]
        services.template_use_remove(template=template, community=community)
        messages.success(
            request,
            _("%(community)s no longer uses “%(template)s”; its runs stay as they are.")
            % {"community": community.name, "template": template.name},
        )
    else:
        messages.error(request, _("Choose a community that uses this template."))
    return redirect(_template_url(template, "uses"))


# --- Preview and starting a run ------------------------------------------------------------


@require_GET
@staff_required(Capability.VIEW_COMMUNITIES)
def template_preview(request: HtmxHttpRequest, template: SopTemplate):
    """What a run would contain for a community and day; odd query values fall back to
    the first community using the template (or any) and its today, with a message."""
    staff = request.staff
    form = PreviewForm(request.GET or None, staff=staff)
    notes: list[str] = []
    community = day = None
    if form.is_bound:
        if form.is_valid():
            community, day = form.cleaned_data["community"], form.cleaned_data["day"]
        else:
            if "community" in form.errors:
                notes.append(_("That community is not one you can see: showing another."))
            if "day" in form.errors:
                notes.append(_("That is not a date we can preview: showing today."))
            community = form.cleaned_data.get("community")
            day = form.cleaned_data.get("day")
    visible = communities_for(staff).filter(archived=False)
    if community is None:
        community = (
            visible.filter(sop_uses__template=template).order_by("name", "pk").first()
            or visible.order_by("name", "pk").first()
        )
    preview = None
    if community is not None:
        if day is None:
            day = timezone.now().astimezone(ZoneInfo(community.time_zone)).date()
        preview = run_preview(template=template, community=community, day=day, staff=staff)
    form = PreviewForm(
        initial={"community": community.slug if community else None, "day": day}, staff=staff
    )
    return render(
        request,
        "checklists/templates/preview.html",
        {
            "nav": "checklists",
            "template": template,
            "form": form,
            "preview": preview,
            "notes": notes,
            "rows": [
                {"entry": entry, "due": due_in_words(entry.item, template.phase)}
                for entry in (preview.items if preview else [])
            ],
            "is_daily": template.phase == Phase.DAILY,
            "is_activity": template.phase == Phase.ACTIVITY,
        },
    )


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def run_start(request: HtmxHttpRequest, template: SopTemplate):
    form = RunStartForm(request.POST, staff=request.staff, auto_id="start_%s")
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect(_template_url(template, "start"))
    try:
        run = run_services.run_start(
            template=template,
            community=form.cleaned_data["community"],
            assignee=form.cleaned_data["assignee"],
            by=request.user,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(_template_url(template, "start"))
    messages.success(
        request,
        _("Run “%(name)s” started in %(community)s.")
        % {"name": run.name, "community": run.community.name},
    )
    return redirect("checklists:run", run_id=run.pk)
