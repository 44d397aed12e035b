"""Forms of the browsing pages (the storefront filters are catalog.forms.ProductFilterForm)."""

from django import forms
from django.utils.translation import gettext_lazy as _


class FavoriteForm(forms.Form):
    """The favourite button: an explicit action, so a repeated submit is harmless."""

    ADD = "add"
    REMOVE = "remove"

    action = forms.ChoiceField(
        label=_("Action"), choices=[(ADD, _("Save to favourites")), (REMOVE, _("Remove"))]
    )
    next = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)
