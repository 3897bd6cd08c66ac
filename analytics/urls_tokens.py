"""Settings → API tokens (mounted at ``settings/tokens/``)."""

from django.urls import path

from analytics.views import tokens

app_name = "tokens"

urlpatterns = [
    path("", tokens.token_list, name="list"),
    path("new/", tokens.token_create, name="create"),
    path("revoke/", tokens.token_revoke, name="revoke"),
]
