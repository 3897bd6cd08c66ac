"""Settings → API tokens (mounted at ``settings/tokens/``)."""

from django.urls import path

from communities import views_tokens

app_name = "tokens"

urlpatterns = [
    path("", views_tokens.token_list, name="list"),
    path("new/", views_tokens.token_create, name="create"),
    path("revoke/", views_tokens.token_revoke, name="revoke"),
]
