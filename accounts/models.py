"""Members: the user (email login), their profile, addresses, preferences and tags."""

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

phone_validator = RegexValidator(
    regex=r"^\+?[0-9][0-9\- ]{5,18}[0-9]$",
    message=_("Enter a valid phone number: digits, optionally a leading + and spaces or dashes."),
)
postal_code_validator = RegexValidator(
    regex=r"^[A-Za-z0-9][A-Za-z0-9\- ]{1,8}[A-Za-z0-9]$",
    message=_("Enter a valid postal code (3 to 10 letters or digits)."),
)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        email = self.normalize_email(email).lower()
        user = self.model(email=email, **extra_fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser must have is_staff=True and is_superuser=True.")
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A shopper or staff member; logs in with their email address.

    ``external_id`` is the customer id used by imports (``import_events``,
    ``import_orders``) and exports; it is kept as a string.
    """

    email = models.EmailField(_("email address"), max_length=254, unique=True)
    external_id = models.CharField(
        _("external id"), max_length=64, unique=True, null=True, blank=True
    )
    is_staff = models.BooleanField(_("staff status"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    email_verified_at = models.DateTimeField(_("email verified at"), null=True, blank=True)
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["-date_joined", "-id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    @property
    def is_email_verified(self) -> bool:
        return self.email_verified_at is not None


class Tag(models.Model):
    """A manual tag that staff assign to members (用户标签), for profiles and segments."""

    name = models.CharField(_("name"), max_length=64, unique=True)
    slug = models.SlugField(_("slug"), max_length=64, unique=True, allow_unicode=True)
    description = models.CharField(_("description"), max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("member tag")
        verbose_name_plural = _("member tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Profile(models.Model):
    """Personal details and declared preferences (用户喜好) of one member."""

    class Gender(models.TextChoices):
        UNSPECIFIED = "unspecified", _("Prefer not to say")
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        OTHER = "other", _("Other")

    class Language(models.TextChoices):
        ENGLISH = "en", _("English")
        SIMPLIFIED_CHINESE = "zh-hans", _("Simplified Chinese")

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    display_name = models.CharField(_("display name"), max_length=64, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[phone_validator])
    gender = models.CharField(
        _("gender"), max_length=16, choices=Gender.choices, default=Gender.UNSPECIFIED
    )
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    avatar = models.ImageField(_("avatar"), upload_to="avatars/%Y/%m/", null=True, blank=True)
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.ENGLISH
    )
    favourite_categories = models.ManyToManyField(
        "catalog.Category", blank=True, related_name="+", verbose_name=_("favourite categories")
    )
    favourite_brands = models.ManyToManyField(
        "catalog.Brand", blank=True, related_name="+", verbose_name=_("favourite brands")
    )
    marketing_opt_in = models.BooleanField(_("receive offers by email"), default=False)
    preferences_set_at = models.DateTimeField(
        _("preferences chosen at"),
        null=True,
        blank=True,
        help_text=_("Empty until the member chooses or skips preferences."),
    )
    tags = models.ManyToManyField(
        Tag, blank=True, related_name="profiles", verbose_name=_("staff tags")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")
        ordering = ["user_id"]

    def __str__(self) -> str:
        return self.display_name or self.user.email


class Address(models.Model):
    """A shipping address owned by one member; at most one is the default."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="addresses")
    recipient_name = models.CharField(_("recipient"), max_length=64)
    phone = models.CharField(_("phone"), max_length=20, validators=[phone_validator])
    country = models.CharField(_("country"), max_length=2, default="CN")
    province = models.CharField(_("province / state"), max_length=64, blank=True)
    city = models.CharField(_("city"), max_length=64)
    district = models.CharField(_("district"), max_length=64, blank=True)
    line1 = models.CharField(_("street address"), max_length=255)
    line2 = models.CharField(_("address line 2"), max_length=255, blank=True)
    postal_code = models.CharField(
        _("postal code"), max_length=10, validators=[postal_code_validator]
    )
    is_default = models.BooleanField(_("default address"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        ordering = ["-is_default", "-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(is_default=True),
                name="accounts_address_one_default_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_name}, {self.line1}, {self.city}"

    def get_absolute_url(self) -> str:
        return reverse("accounts:address_edit", args=[self.pk])
