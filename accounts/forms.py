"""Web forms of the accounts pages: they parse and validate input, the services write."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils.translation import gettext_lazy as _

from accounts import selectors, services
from accounts.exceptions import InvalidPassword
from accounts.models import Address, Profile, User

AVATAR_MAX_BYTES = 2 * 1024 * 1024


class RegisterForm(forms.Form):
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    display_name = forms.CharField(
        label=_("Display name"),
        max_length=64,
        required=False,
        help_text=_("How we greet you. You can change it later."),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters; not a common or all-numeric password."),
    )
    password2 = forms.CharField(
        label=_("Confirm password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_email(self) -> str:
        email = services.normalise_email(self.cleaned_data["email"])
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                _("An account with this email address already exists."), code="email_taken"
            )
        return email

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords do not match."))
        elif password1:
            try:
                services.password_check(
                    password=password1, user=User(email=cleaned.get("email", ""))
                )
            except InvalidPassword as exc:
                for message in exc.detail["password"]:
                    self.add_error("password1", message)
        return cleaned


class EmailAuthenticationForm(AuthenticationForm):
    """Django's login form (so django-axes sees the request) with an email field.

    The field keeps the name ``username`` that django-axes reads.
    """

    username = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("The email address or password is incorrect."),
    }

    def clean_username(self) -> str:
        return services.normalise_email(self.cleaned_data["username"])


class ShopPasswordResetForm(PasswordResetForm):
    """Asks the service for a reset email; never says whether the address is registered."""

    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def save(self, *args, **kwargs) -> None:
        services.password_reset_request(email=self.cleaned_data["email"])


class PreferencesForm(forms.Form):
    favourite_categories = forms.ModelMultipleChoiceField(
        label=_("Favourite categories"),
        queryset=selectors.preference_category_choices(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    favourite_brands = forms.ModelMultipleChoiceField(
        label=_("Favourite brands"),
        queryset=selectors.preference_brand_choices(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    marketing_opt_in = forms.BooleanField(
        label=_("Send me offers and news by email"), required=False
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Category names in the shopper's language (Chinese when given).
        self.fields["favourite_categories"].label_from_instance = lambda c: c.display_name

    @classmethod
    def initial_for(cls, profile: Profile | None) -> dict:
        if profile is None:
            return {}
        return {
            "favourite_categories": [c.pk for c in profile.favourite_categories.all()],
            "favourite_brands": [b.pk for b in profile.favourite_brands.all()],
            "marketing_opt_in": profile.marketing_opt_in,
        }


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = ["display_name", "phone", "gender", "birthday", "avatar", "language"]
        widgets = {
            "birthday": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
            "avatar": forms.ClearableFileInput(attrs={"accept": "image/*"}),
        }
        help_texts = {"avatar": _("A JPEG, PNG, GIF or WebP image of at most 2 MB.")}

    def clean_avatar(self):
        avatar = self.cleaned_data.get("avatar")
        is_new = avatar and hasattr(avatar, "size") and "avatar" in self.changed_data
        if is_new and avatar.size > AVATAR_MAX_BYTES:
            raise forms.ValidationError(
                _("The image is too large: at most 2 MB."), code="file_too_large"
            )
        return avatar

    def service_data(self) -> dict:
        """The fields as ``profile_update`` takes them; an unchanged avatar is left out."""
        data = {f: self.cleaned_data[f] for f in self.Meta.fields if f != "avatar"}
        if "avatar" in self.changed_data:
            data["avatar"] = self.cleaned_data["avatar"] or None
        return data

    def save(self, commit: bool = True):  # pragma: no cover - guard against misuse
        raise NotImplementedError("Use accounts.services.profile_update.")


class AddressForm(forms.ModelForm):
    make_default = forms.BooleanField(label=_("Use as my default address"), required=False)

    class Meta:
        model = Address
        fields = list(services.ADDRESS_FIELDS)
        widgets = {
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
            "postal_code": forms.TextInput(attrs={"autocomplete": "postal-code"}),
            "country": forms.TextInput(attrs={"autocomplete": "country", "size": 2}),
            "line1": forms.TextInput(attrs={"autocomplete": "address-line1"}),
            "line2": forms.TextInput(attrs={"autocomplete": "address-line2"}),
        }
        help_texts = {"country": _("Two-letter country code, e.g. CN.")}

    def clean_country(self) -> str:
        return (self.cleaned_data.get("country") or "").strip().upper()

    def service_data(self) -> dict:
        return {f: self.cleaned_data[f] for f in services.ADDRESS_FIELDS}

    def save(self, commit: bool = True):  # pragma: no cover - guard against misuse
        raise NotImplementedError("Use accounts.services.address_create / address_update.")


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label=_("I understand that my account and personal data will be deleted."),
        required=True,
    )

    def __init__(self, *args, user: User, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("The password is incorrect."), code="wrong_password")
        return password
