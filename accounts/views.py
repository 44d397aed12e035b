"""Account pages: parse the request, call one service or selector, render."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import forms, selectors, services
from accounts.exceptions import EmailAlreadyRegistered, EmailAlreadyVerified, InvalidPassword
from config.api.errors import DomainError

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _set_language(response: HttpResponse, language: str) -> HttpResponse:
    """Switch the UI language the way Django's set_language view does: a cookie."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response


def _add_validation_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


# --- registration and verification ------------------------------------------------------


def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:profile")
    form = forms.RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_register(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
                display_name=form.cleaned_data["display_name"],
                language=translation.get_language() or "",
            )
        except EmailAlreadyRegistered as exc:
            form.add_error("email", str(exc.message))
        except InvalidPassword as exc:
            form.add_error("password1", exc.detail["password"])
        else:
            login(request, user, backend=MODEL_BACKEND)
            messages.success(
                request,
                _("Welcome! We sent a link to %(email)s to confirm your address.")
                % {"email": user.email},
            )
            return redirect("accounts:register_preferences")
    return render(request, "accounts/register.html", {"form": form})


@login_required
def register_preferences(request: HttpRequest) -> HttpResponse:
    """The skippable second step of registration: favourite categories and brands."""
    profile = selectors.profile_for_user(user=request.user)
    if request.method == "POST" and "skip" in request.POST:
        services.preferences_skip(user=request.user)
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = forms.PreferencesForm(
        request.POST or None, initial=forms.PreferencesForm.initial_for(profile)
    )
    if request.method == "POST" and form.is_valid():
        services.preferences_update(user=request.user, **form.cleaned_data)
        messages.success(request, _("Thanks! We will use your choices to suggest products."))
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/register_preferences.html", {"form": form})


def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user = services.user_verify_email(token=token)
    except DomainError as exc:
        return render(
            request,
            "accounts/verify_email.html",
            {"verified": False, "error_code": exc.code, "message": exc.message},
            status=400,
        )
    return render(request, "accounts/verify_email.html", {"verified": True, "verified_user": user})


@login_required
def verify_email_resend(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            services.email_verification_resend(user=request.user)
        except EmailAlreadyVerified as exc:
            messages.info(request, exc.message)
            return redirect("accounts:profile")
        messages.success(
            request,
            _("We sent a new confirmation link to %(email)s.") % {"email": request.user.email},
        )
        return redirect("accounts:verify_email_resend")
    return render(request, "accounts/verify_email_resend.html")


# --- login, logout, passwords -----------------------------------------------------------


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = forms.EmailAuthenticationForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django's LogoutView refuses GET)."""


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password_change_done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


class PasswordResetView(auth_views.PasswordResetView):
    """Same page and response whether or not the email is registered."""

    template_name = "accounts/password_reset.html"
    form_class = forms.ShopPasswordResetForm
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


# --- profile and preferences ------------------------------------------------------------


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/profile.html",
        {
            "profile": selectors.profile_for_user(user=request.user),
            "default_address": selectors.address_default(user=request.user),
            "active_menu": "profile",
        },
    )


@login_required
def profile_edit(request: HttpRequest) -> HttpResponse:
    current = selectors.profile_for_user(user=request.user) or services.profile_ensure(
        user=request.user
    )
    form = forms.ProfileForm(request.POST or None, request.FILES or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            updated = services.profile_update(user=request.user, data=form.service_data())
        except ValidationError as exc:
            _add_validation_errors(form, exc)
        else:
            translation.activate(updated.language)
            messages.success(request, _("Your profile has been saved."))
            return _set_language(redirect("accounts:profile"), updated.language)
    return render(request, "accounts/profile_edit.html", {"form": form, "active_menu": "profile"})


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    profile = selectors.profile_for_user(user=request.user)
    form = forms.PreferencesForm(
        request.POST or None, initial=forms.PreferencesForm.initial_for(profile)
    )
    if request.method == "POST" and form.is_valid():
        services.preferences_update(user=request.user, **form.cleaned_data)
        messages.success(request, _("Your preferences have been saved."))
        return redirect("accounts:preferences")
    return render(
        request, "accounts/preferences.html", {"form": form, "active_menu": "preferences"}
    )


# --- addresses ------------------------------------------------------------------------------


@login_required
def address_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/address_list.html",
        {
            "addresses": list(selectors.address_list(user=request.user)),
            "active_menu": "addresses",
        },
    )


@login_required
def address_add(request: HttpRequest) -> HttpResponse:
    form = forms.AddressForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.address_create(
                user=request.user,
                data=form.service_data(),
                is_default=form.cleaned_data["make_default"],
            )
        except ValidationError as exc:
            _add_validation_errors(form, exc)
        else:
            messages.success(request, _("The address has been added."))
            return redirect("accounts:addresses")
    return render(
        request,
        "accounts/address_form.html",
        {"form": form, "address": None, "active_menu": "addresses"},
    )


@login_required
def address_edit(request: HttpRequest, pk: int) -> HttpResponse:
    address = _own_address_or_404(request, pk)
    form = forms.AddressForm(
        request.POST or None, instance=address, initial={"make_default": address.is_default}
    )
    if address.is_default:
        form.fields["make_default"].disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            services.address_update(
                user=request.user,
                address_id=address.pk,
                data=form.service_data(),
                is_default=True if form.cleaned_data["make_default"] else None,
            )
        except ValidationError as exc:
            _add_validation_errors(form, exc)
        except DomainError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("The address has been saved."))
            return redirect("accounts:addresses")
    return render(
        request,
        "accounts/address_form.html",
        {"form": form, "address": address, "active_menu": "addresses"},
    )


@login_required
def address_delete(request: HttpRequest, pk: int) -> HttpResponse:
    address = _own_address_or_404(request, pk)
    if request.method == "POST":
        services.address_delete(user=request.user, address_id=address.pk)
        messages.success(request, _("The address has been deleted."))
        return redirect("accounts:addresses")
    return render(
        request,
        "accounts/address_confirm_delete.html",
        {"address": address, "active_menu": "addresses"},
    )


@login_required
@require_POST
def address_set_default(request: HttpRequest, pk: int) -> HttpResponse:
    address = _own_address_or_404(request, pk)
    services.address_set_default(user=request.user, address_id=address.pk)
    messages.success(request, _("Your default address has been changed."))
    return redirect("accounts:addresses")


def _own_address_or_404(request: HttpRequest, pk: int):
    try:
        return selectors.address_get(user=request.user, address_id=pk)
    except DomainError:
        raise Http404(_("Address not found."))


# --- privacy ------------------------------------------------------------------------------


@login_required
def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/privacy.html", {"active_menu": "privacy"})


@login_required
def data_export(request: HttpRequest) -> HttpResponse:
    data = services.user_export_data(user=request.user)
    filename = f"membermall-data-{timezone.localdate():%Y%m%d}.json"
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def account_delete(request: HttpRequest) -> HttpResponse:
    form = forms.DeleteAccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.user_delete_account(user=request.user)
        logout(request)
        messages.success(request, _("Your account has been deleted. Goodbye."))
        return redirect(reverse("browsing:home"))
    return render(request, "accounts/account_delete.html", {"form": form, "active_menu": "privacy"})
