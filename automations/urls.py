"""The automations app's pages."""

from django.urls import path

from automations.urls_broadcasts import urlpatterns as broadcast_urls
from automations.urls_community import urlpatterns as community_urls
from automations.urls_rules import urlpatterns as rule_urls
from automations.views import actions, outlets

app_name = "automations"

urlpatterns = [
    path("communities/<slug:community_slug>/outlets/", outlets.outlets, name="outlets"),
    path("outlets/<int:outlet_id>/test/", outlets.outlet_test, name="outlet-test"),
    path("outlets/<int:outlet_id>/disable/", outlets.outlet_disable, name="outlet-disable"),
    path("outlets/<int:outlet_id>/enable/", outlets.outlet_enable, name="outlet-enable"),
    path("outlets/<int:outlet_id>/delete/", outlets.outlet_delete, name="outlet-delete"),
    path("actions/", actions.actions, name="actions"),
    path("actions/<int:action_id>/", actions.action, name="action"),
    path("actions/<int:action_id>/cancel/", actions.action_cancel, name="action-cancel"),
    path("actions/<int:action_id>/send-now/", actions.action_send_now, name="action-send-now"),
    path(
        "deliveries/<int:delivery_id>/mark-sent/",
        actions.delivery_mark_sent,
        name="delivery-mark-sent",
    ),
    path(
        "deliveries/<int:delivery_id>/send-again/",
        actions.delivery_send_again,
        name="delivery-send-again",
    ),
    *broadcast_urls,
    *community_urls,
    *rule_urls,
]
