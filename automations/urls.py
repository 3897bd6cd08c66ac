"""The automations app's pages."""

from django.urls import path

from automations.views import outlets

app_name = "automations"

urlpatterns = [
    path("communities/<slug:community_slug>/outlets/", outlets.outlets, name="outlets"),
    path("outlets/<int:outlet_id>/test/", outlets.outlet_test, name="outlet-test"),
    path("outlets/<int:outlet_id>/disable/", outlets.outlet_disable, name="outlet-disable"),
    path("outlets/<int:outlet_id>/enable/", outlets.outlet_enable, name="outlet-enable"),
    path("outlets/<int:outlet_id>/delete/", outlets.outlet_delete, name="outlet-delete"),
]
