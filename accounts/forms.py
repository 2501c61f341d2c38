from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError

from accounts import services
from accounts.models import User

INVALID_LOGIN = "Invalid email or password."


def _apply_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError next to the matching fields."""
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


class SignupForm(forms.Form):
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    display_name = forms.CharField(
        required=False,
        max_length=40,
        help_text="Shown on leaderboards. Leave empty to get one from your email.",
    )
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
        help_text="At least 8 characters; not a common or all-numeric password.",
    )

    def save(self) -> User | None:
        """Create the user through the service; returns None and fills errors on refusal."""
        try:
            return services.user_signup(
                email=self.cleaned_data["email"],
                password=self.cleaned_data["password"],
                display_name=self.cleaned_data.get("display_name") or None,
            )
        except ValidationError as exc:
            _apply_service_errors(self, exc)
            return None


class LoginForm(forms.Form):
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}), strip=False
    )

    def __init__(self, request, *args, **kwargs):
        self.request = request
        self.user: User | None = None
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        self.user = authenticate(
            self.request, username=cleaned["email"], password=cleaned["password"]
        )
        if self.user is None or not self.user.is_active:
            raise ValidationError(INVALID_LOGIN, code="invalid_credentials")
        return cleaned


class ProfileForm(forms.Form):
    display_name = forms.CharField(max_length=40)

    def __init__(self, *args, user: User, **kwargs):
        self.user = user
        kwargs.setdefault("initial", {"display_name": user.display_name})
        super().__init__(*args, **kwargs)

    def save(self) -> User | None:
        try:
            return services.profile_update(
                user=self.user, display_name=self.cleaned_data["display_name"]
            )
        except ValidationError as exc:
            _apply_service_errors(self, exc)
            return None


__all__ = ["LoginForm", "PasswordChangeForm", "ProfileForm", "SignupForm"]
