"""Accounts: changing one's password, with the login's lockout rule.

The old password is checked through ``authenticate``, so django-axes counts a wrong one
as a failed login of that user from that address, and refuses a locked pair: guessing
the password from a signed-in session (a borrowed laptop, a stolen cookie) is throttled
by the same rule and counter as the login form (``AXES_FAILURE_LIMIT`` wrong passwords
lock the pair for ``AXES_COOLOFF_TIME``), not by a second one. The lockout answer is
axes' (429, ``registration/locked_out.html``, which words it for this page).
"""

import hashlib

from axes.helpers import get_client_ip_address
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordChangeForm,
    PasswordResetForm,
    SetPasswordForm,
)
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.shortcuts import render, resolve_url
from django.urls import reverse_lazy
from django.utils import translation

from communities.panels import landing_for
from communities.permissions import SESSION_ORGANIZATION_KEY, staff_list_for_user
from communities.ratelimit import count_in_window
from communities.selectors import mail_language_for_user


class LoginForm(AuthenticationForm):
    """Django's login form with its user name's length enforced. Django sets the field's
    max_length after building it, so no validator checked it: a 5,000-character name went
    to authenticate() and into django-axes' 255-character column (a 500 on PostgreSQL)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(username.max_length))


class LoginView(auth_views.LoginView):
    """Without a ``next``, a user lands on their role's page (``panels.register_landing``:
    moderators on My checklists), else on LOGIN_REDIRECT_URL."""

    def get_default_redirect_url(self):
        roles = staff_list_for_user(user=self.request.user)
        chosen = self.request.session.get(SESSION_ORGANIZATION_KEY)
        staff = next((s for s in roles if s.organization_id == chosen), roles[0] if roles else None)
        url_name = landing_for(staff.role) if staff is not None else None
        return resolve_url(url_name) if url_name else super().get_default_redirect_url()


login = LoginView.as_view(authentication_form=LoginForm)


class LockoutPasswordChangeForm(PasswordChangeForm):
    def __init__(self, user, *args, request, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        user = authenticate(self.request, username=self.user.get_username(), password=old_password)
        if user is None or user.pk != self.user.pk:
            raise ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return old_password


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = LockoutPasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form):
        response = super().form_valid(form)
        if form.user.must_change_password:  # the temporary password is gone: let them in
            form.user.must_change_password = False
            form.user.save(update_fields=["must_change_password"])
        return response


password_change = PasswordChangeView.as_view()


# --- Password reset by e-mail (Django's views) ---------------------------------------------
#
# Known and unknown addresses get the same answer ("if an account uses this address, a link
# is on its way"): Django's PasswordResetView already sends nothing, and says nothing, for an
# unknown one. The throttle counts before any address is looked up, so it too answers alike.
#
# Decision: over the limit, the answer is a 429 with a translated explanation, not the
# neutral "sent" page. The neutral page would tell someone who asked once too often that a
# mail is coming when none is; and since the counters are the same for a known and an
# unknown address, the 429 reveals nothing about accounts.

RESET_WINDOW_SECONDS = 3600  # the limit is PASSWORD_RESET_LIMIT requests an hour


def _count_and_check(key: str) -> bool:
    """Count one request against ``key``'s window; True when it is over the limit."""
    return count_in_window(key, seconds=RESET_WINDOW_SECONDS) > settings.PASSWORD_RESET_LIMIT


def password_reset_throttled(request, email: str) -> bool:
    """One more reset request from this client address and for this e-mail address (known or
    not): True when either is over ``PASSWORD_RESET_LIMIT`` in the hour. The address is the
    one the login lockout uses (django-axes, behind ``PROXY_COUNT`` proxies)."""
    address = get_client_ip_address(request) or "unknown"
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()  # no address in keys
    by_client = _count_and_check(f"password-reset:client:{address}")
    by_email = _count_and_check(f"password-reset:email:{digest}")
    return by_client or by_email


class MailLanguagePasswordResetForm(PasswordResetForm):
    """Sends the mail in its recipient's language: their organisation's default language
    (first active staff record), else the language of the request."""

    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs):
        language = mail_language_for_user(user=context["user"]) or translation.get_language()
        with translation.override(language):
            super().send_mail(subject_template_name, email_template_name, context, *args, **kwargs)


class PasswordResetView(auth_views.PasswordResetView):
    form_class = MailLanguagePasswordResetForm
    subject_template_name = "registration/password_reset_subject.txt"
    email_template_name = "registration/password_reset_email.txt"
    extra_email_context = {"valid_days": settings.PASSWORD_RESET_TIMEOUT // 86400}

    def form_valid(self, form):
        if password_reset_throttled(self.request, form.cleaned_data["email"]):
            return render(
                self.request,
                "registration/password_reset_throttled.html",
                {"limit": settings.PASSWORD_RESET_LIMIT},
                status=429,
            )
        return super().form_valid(form)


class ResetSetPasswordForm(SetPasswordForm):
    """A new password from a reset link: it ends a temporary password's "change it at first
    login", and the login lockout of the user name (they proved they own the address; a
    locked-out user who reset must be able to log in with the new password at once)."""

    def save(self, commit=True):
        self.user.must_change_password = False
        user = super().save(commit=commit)
        if commit:
            axes_reset(username=user.get_username())
        return user


password_reset = PasswordResetView.as_view()
password_reset_done = auth_views.PasswordResetDoneView.as_view()
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    form_class=ResetSetPasswordForm, success_url=reverse_lazy("password_reset_complete")
)
password_reset_complete = auth_views.PasswordResetCompleteView.as_view()
