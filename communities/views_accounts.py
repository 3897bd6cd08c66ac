"""Accounts: changing one's password, with the login's lockout rule.

The old password is checked through ``authenticate``, so django-axes counts a wrong one
as a failed login of that user from that address, and refuses a locked pair: guessing
the password from a signed-in session (a borrowed laptop, a stolen cookie) is throttled
by the same rule and counter as the login form (``AXES_FAILURE_LIMIT`` wrong passwords
lock the pair for ``AXES_COOLOFF_TIME``), not by a second one. The lockout answer is
axes' (429, ``registration/locked_out.html``, which words it for this page).
"""

from django.contrib.auth import authenticate
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator


class LoginForm(AuthenticationForm):
    """Django's login form with its user name's length enforced. Django sets the field's
    max_length after building it, so no validator checked it: a 5,000-character name went
    to authenticate() and into django-axes' 255-character column (a 500 on PostgreSQL)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(username.max_length))


login = auth_views.LoginView.as_view(authentication_form=LoginForm)


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


password_change = PasswordChangeView.as_view()
