"""Routes of the template pages (checklists/views/templates.py)."""

from django.urls import path

from checklists.views import templates

urlpatterns = [
    path("templates/", templates.template_list, name="templates"),
    path("templates/new/", templates.template_create, name="template-create"),
    path("templates/copy/", templates.template_copy, name="template-copy"),
    path("templates/builtin/<str:builtin_key>/", templates.builtin_preview, name="builtin"),
    path("templates/<int:template_id>/", templates.template_page, name="template"),
    path("templates/<int:template_id>/edit/", templates.template_edit, name="template-edit"),
    path("templates/<int:template_id>/delete/", templates.template_delete, name="template-delete"),
    path("templates/<int:template_id>/items/new/", templates.item_create, name="item-create"),
    path("templates/items/<int:sop_item_id>/", templates.item_edit, name="item-edit"),
    path("templates/items/<int:sop_item_id>/delete/", templates.item_delete, name="item-delete"),
    path("templates/items/<int:sop_item_id>/move/", templates.item_move, name="item-move"),
    path("templates/<int:template_id>/uses/", templates.template_use, name="template-use"),
    path(
        "templates/<int:template_id>/uses/remove/",
        templates.template_use_remove,
        name="template-use-remove",
    ),
    path(
        "templates/<int:template_id>/preview/",
        templates.template_preview,
        name="template-preview",
    ),
    path("templates/<int:template_id>/start/", templates.run_start, name="run-start"),
]
