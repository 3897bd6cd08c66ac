from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language

from analytics.views import overview as analytics_views
from communities import views as community_views
from communities import views_accounts, views_notifications, views_setup, views_team
from config import health

urlpatterns = [
    path("", analytics_views.overview, name="overview"),
    path("overview.csv", analytics_views.overview_csv, name="overview-csv"),
    path("communities/", include("communities.urls")),
    path("members/", include("members.urls")),
    path("", include("activities.urls")),
    path("checklists/", include("checklists.urls")),
    path("automations/", include("automations.urls")),
    path("analytics/", include("analytics.urls")),
    path("api/v1/", include("analytics.api_urls")),
    path("settings/tokens/", include("analytics.urls_tokens")),
    path("settings/staff/", include("communities.urls_team")),
    path("settings/", community_views.organization_settings, name="settings"),
    path("notifications/", views_notifications.notifications, name="notifications"),
    path("notifications/read/", views_notifications.notifications_read, name="notifications-read"),
    path("settings/organization/", community_views.organization_switch, name="organization-switch"),
    path("settings/privacy/", community_views.organization_privacy, name="organization-privacy"),
    path(
        "settings/organizations/new/",
        views_setup.organization_create,
        name="organization-create",
    ),
    path("setup/", views_setup.first_run, name="first-run"),
    # While the installation has no organisation, nobody can sign in: the first run instead.
    path("accounts/login/", views_setup.unless_first_run(views_accounts.login), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        views_accounts.password_change,
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    # Password reset by e-mail (Django's views; throttled, see communities/views_accounts.py).
    path("accounts/password/reset/", views_accounts.password_reset, name="password_reset"),
    path(
        "accounts/password/reset/sent/",
        views_accounts.password_reset_done,
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        views_accounts.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        views_accounts.password_reset_complete,
        name="password_reset_complete",
    ),
    path(
        "accounts/invitation/<str:token>/",
        views_team.invitation_accept,
        name="invitation-accept",
    ),
    path("i18n/setlang/", set_language, name="set_language"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path(settings.ADMIN_URL, admin.site.urls),
]
