"""Staff screens for members: users with their profile (staff tags) and addresses, tags."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _

from accounts.models import Address, Profile, Tag, User


class UserAdminCreationForm(AdminUserCreationForm):
    """Django's admin "add user" form for the email-only user model."""

    class Meta:
        model = User
        fields = ("email",)

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                _("An account with this email address already exists."), code="email_taken"
            )
        return email


class UserAdminChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        clash = User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError(
                _("An account with this email address already exists."), code="email_taken"
            )
        return email


class EmailVerifiedFilter(admin.SimpleListFilter):
    title = _("email verified")
    parameter_name = "verified"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(email_verified_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(email_verified_at__isnull=True)
        return queryset


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    extra = 0
    max_num = 1
    fields = [
        "display_name",
        "phone",
        "gender",
        "birthday",
        "avatar",
        "language",
        "tags",
        "favourite_categories",
        "favourite_brands",
        "marketing_opt_in",
        "preferences_set_at",
    ]
    readonly_fields = ["preferences_set_at"]
    filter_horizontal = ["tags", "favourite_categories", "favourite_brands"]


class AddressInline(admin.TabularInline):
    model = Address
    extra = 0
    fields = ["recipient_name", "phone", "city", "line1", "postal_code", "country", "is_default"]
    show_change_link = True


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserAdminChangeForm
    add_form = UserAdminCreationForm
    inlines = [ProfileInline, AddressInline]
    list_display = [
        "email",
        "external_id",
        "is_verified",
        "is_active",
        "is_staff",
        "date_joined",
        "last_login",
    ]
    list_filter = ["is_staff", "is_active", EmailVerifiedFilter, "is_superuser", "groups"]
    search_fields = ["email", "external_id"]
    ordering = ["-date_joined"]
    readonly_fields = ["date_joined", "last_login", "anonymised_at"]
    fieldsets = [
        (None, {"fields": ["email", "password", "external_id"]}),
        (_("Status"), {"fields": ["is_active", "email_verified_at", "anonymised_at"]}),
        (
            _("Permissions"),
            {
                "classes": ["collapse"],
                "fields": ["is_staff", "is_superuser", "groups", "user_permissions"],
            },
        ),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "usable_password", "password1", "password2"],
            },
        ),
    ]

    @admin.display(boolean=True, description=_("verified"), ordering="email_verified_at")
    def is_verified(self, obj: User) -> bool:
        return obj.email_verified_at is not None

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "description", "created_at"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ["recipient_name", "user", "city", "postal_code", "country", "is_default"]
    list_filter = ["is_default", "country"]
    search_fields = ["recipient_name", "user__email", "city", "line1", "postal_code", "phone"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
