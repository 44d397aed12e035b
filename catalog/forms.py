"""The storefront's listing/search filter form (GET parameters)."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from catalog.models import Brand
from catalog.selectors import Ordering

MAX_PRICE = Decimal("9999999999.99")


class ProductFilterForm(forms.Form):
    """Brand, price range, stock and sort for a category listing or a search.

    Invalid values are reported as form errors and then ignored, so the page
    still lists products instead of failing.
    """

    brand = forms.TypedMultipleChoiceField(
        label=_("Brand"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    min_price = forms.DecimalField(
        label=_("Min price"),
        required=False,
        min_value=Decimal("0"),
        max_value=MAX_PRICE,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    max_price = forms.DecimalField(
        label=_("Max price"),
        required=False,
        min_value=Decimal("0"),
        max_value=MAX_PRICE,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    in_stock = forms.BooleanField(label=_("In stock only"), required=False)
    sort = forms.ChoiceField(label=_("Sort by"), required=False)

    def __init__(self, data=None, *, brands: list[Brand], searching: bool = False, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["brand"].choices = [(b.pk, b.name) for b in brands]
        self.fields["sort"].choices = Ordering.CHOICES if searching else Ordering.LISTING_CHOICES
        self.default_sort = Ordering.RELEVANCE if searching else Ordering.NEWEST

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("min_price"), cleaned.get("max_price")
        if low is not None and high is not None and low > high:
            self.add_error("max_price", _("The maximum price must not be below the minimum."))
        return cleaned

    @property
    def in_use(self) -> bool:
        """Whether the request sets any of this form's filters."""
        return bool(self.data) and any(self.data.get(name) for name in self.fields)

    def filters(self) -> dict:
        """Keyword arguments for product_list/product_search: valid values only."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "brand_ids": data.get("brand") or None,
            "min_price": data.get("min_price"),
            "max_price": data.get("max_price"),
            "in_stock_only": bool(data.get("in_stock")),
            "ordering": data.get("sort") or self.default_sort,
        }
