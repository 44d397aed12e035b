"""Member pages: my membership (tier, privileges, progress, history) and my profile
("what we think you like", with hide/show of interests)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from membership import selectors
from membership.profiles import InterestNotFound, interest_hide


class InterestForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[("category", gettext_lazy("Category")), ("brand", gettext_lazy("Brand"))]
    )
    object_id = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    hidden = forms.BooleanField(required=False)


@login_required
def membership_page(request):
    context = selectors.membership_overview(request.user)
    context["active_menu"] = "membership"
    return render(request, "membership/membership.html", context)


@login_required
def profile_page(request):
    profile = selectors.profile_for(request.user)
    data = profile.data if profile else {}
    return render(
        request,
        "membership/profile.html",
        {
            "profile": profile,
            "data": data,
            "active_menu": "member_profile",
            **selectors.profile_interests(data),
        },
    )


@login_required
@require_POST
def interest_update(request):
    form = InterestForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("That interest could not be changed."))
        return redirect("membership:profile")
    try:
        interest_hide(
            user=request.user,
            kind=form.cleaned_data["kind"],
            object_id=form.cleaned_data["object_id"],
            hidden=form.cleaned_data["hidden"],
        )
    except InterestNotFound:
        messages.error(request, _("That interest could not be changed."))
        return redirect("membership:profile")
    if form.cleaned_data["hidden"]:
        messages.success(request, _("We will stop suggesting this interest."))
    else:
        messages.success(request, _("This interest is shown again."))
    return redirect("membership:profile")
