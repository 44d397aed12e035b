"""MemberMall settings, read from the environment (django-environ).

Every variable has an embedded default that needs nothing running: a SQLite
file, Celery tasks run eagerly, local-memory cache and console e-mail. Set
DATABASE_URL / REDIS_URL / EMAIL_URL to use PostgreSQL, Redis and real SMTP.
Production (config.settings.production) requires DJANGO_SECRET_KEY.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

# --- core -------------------------------------------------------------------
SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-only-insecure-key-change-me-0123456789abcdef")
DEBUG = env.bool("DJANGO_DEBUG", default=True)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_celery_beat",
    "accounts",
    "catalog",
    "browsing",
    "orders",
    "promotions",
    "membership",
    "recommend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # One request's memo of the member's tier/audience (membership.memo: never across requests).
    "membership.memo.RequestMemoMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "catalog.context_processors.shop",
                "orders.context_processors.cart",
            ],
        },
    },
]

# --- data -------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a writer instead of failing at once ("database is locked").
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="membermall"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- celery -----------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_SOFT_TIME_LIMIT = 300
CELERY_TASK_TIME_LIMIT = 360
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE: dict = {
    "orders-expire-unpaid": {"task": "orders.tasks.expire_unpaid_orders", "schedule": 60.0},
    "orders-auto-complete": {"task": "orders.tasks.auto_complete_orders", "schedule": 3600.0},
    "orders-train-sentiment": {"task": "orders.tasks.train_sentiment", "schedule": 86400.0},
    "promotions-expire-points": {"task": "promotions.tasks.expire_points", "schedule": 3600.0},
    "membership-review-tiers": {"task": "membership.tasks.review_tiers", "schedule": 3600.0},
    "membership-rebuild": {"task": "membership.tasks.rebuild_members", "schedule": 86400.0},
}

# --- auth -------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:profile"
LOGOUT_REDIRECT_URL = "browsing:home"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24
EMAIL_VERIFICATION_MAX_AGE = 60 * 60 * 24 * 3

# django-axes: lock an account+IP pair after repeated failures, web and API.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_VERBOSE = False

# --- e-mail -----------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="MemberMall <no-reply@membermall.local>")

# --- i18n / shop ------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("DJANGO_TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

SHOP_NAME = env("SHOP_NAME", default="MemberMall")
# ISO 4217 code of the shop's one currency; money is shown in it everywhere.
SHOP_CURRENCY = env("SHOP_CURRENCY", default="CNY")

# --- shopping -----------------------------------------------------------------
# Shipping: a flat fee, free when the discounted subtotal reaches the threshold.
SHIPPING_FEE = env("SHIPPING_FEE", default="10.00")
FREE_SHIPPING_THRESHOLD = env("FREE_SHIPPING_THRESHOLD", default="99.00")
# Most of one product a cart line or an order line may hold.
CART_MAX_QUANTITY = env.int("CART_MAX_QUANTITY", default=99)
# An unpaid order is cancelled (stock restored) after this many minutes.
ORDER_PAYMENT_TIMEOUT_MINUTES = env.int("ORDER_PAYMENT_TIMEOUT_MINUTES", default=30)
# A delivered order completes by itself after this many days unless the member confirms earlier.
ORDER_AUTO_COMPLETE_DAYS = env.int("ORDER_AUTO_COMPLETE_DAYS", default=7)
# Payment provider class (orders.payments.PaymentProvider); the simulator is built in.
PAYMENT_PROVIDER = env("PAYMENT_PROVIDER", default="orders.payments.SimulatedProvider")
# A review can be edited for this many days after it is written.
REVIEW_EDIT_DAYS = env.int("REVIEW_EDIT_DAYS", default=30)
# Repeated views of one product by one visitor within this window are one footprint.
VIEW_COLLAPSE_SECONDS = env.int("VIEW_COLLAPSE_SECONDS", default=600)
# Most events one POST /api/v1/events/ batch may carry.
EVENTS_BATCH_MAX = env.int("EVENTS_BATCH_MAX", default=200)

# --- promotions, coupons and points (promotions/) ------------------------------------
# The pricing pipeline after orders' built-in adjusters: promotions (满减, sales), the
# member's tier discount and free shipping (membership), coupons, then points.
PRICING_ADJUSTERS = [
    "promotions.adjusters.promotions_adjuster",
    "membership.pricing.tier_privileges",
    "promotions.adjusters.coupon_adjuster",
    "promotions.adjusters.points_adjuster",
]
# Points earned per 1.00 paid for the goods of a completed order (times the tier multiplier).
PROMOTIONS_POINTS_EARN_RATE = env("PROMOTIONS_POINTS_EARN_RATE", default="1")
# Points worth 1.00 when spent at checkout.
PROMOTIONS_POINTS_VALUE = env.int("PROMOTIONS_POINTS_VALUE", default=100)
# Largest share of what is still payable (after promotions and coupons) points may pay.
PROMOTIONS_POINTS_MAX_SHARE = env("PROMOTIONS_POINTS_MAX_SHARE", default="0.50")
# Earned points expire after this many months (0: never), oldest lots first.
PROMOTIONS_POINTS_EXPIRY_MONTHS = env.int("PROMOTIONS_POINTS_EXPIRY_MONTHS", default=12)
# "Expiring soon" on the member's points page.
PROMOTIONS_POINTS_EXPIRING_SOON_DAYS = env.int("PROMOTIONS_POINTS_EXPIRING_SOON_DAYS", default=30)
# Hooks (dotted paths, empty = none) the membership app provides; see promotions/audience.py.
PROMOTIONS_AUDIENCE_PROVIDER = "membership.selectors.member_audience"
PROMOTIONS_AUDIENCE_CHOICES_PROVIDER = "membership.selectors.audience_choices"
PROMOTIONS_POINTS_MULTIPLIER_PROVIDER = "membership.selectors.points_multiplier"
PROMOTIONS_SEGMENT_MEMBERS_PROVIDER = "membership.selectors.segment_member_ids"
# The live promotion set is cached this long (and rebuilt on any promotion save/delete and
# when a promotion window starts or ends); 0: read on every pricing.
PROMOTIONS_LIVE_CACHE_SECONDS = env.int("PROMOTIONS_LIVE_CACHE_SECONDS", default=60)
# What an order saved, shown by the order page, GET orders/ and orders/{id}/, and the admin.
ORDER_SAVINGS_PROVIDER = "promotions.selectors.order_savings"

# --- membership ---------------------------------------------------------------
# Tiers qualify on completed orders over this rolling window (days).
MEMBERSHIP_QUALIFYING_DAYS = env.int("MEMBERSHIP_QUALIFYING_DAYS", default=365)
# A tier is reviewed (downgrade possible) this long after it was reached, once the
# grace days have also passed.
MEMBERSHIP_REVIEW_DAYS = env.int("MEMBERSHIP_REVIEW_DAYS", default=365)
MEMBERSHIP_REVIEW_GRACE_DAYS = env.int("MEMBERSHIP_REVIEW_GRACE_DAYS", default=30)
# Optional points criterion (a tier's min_points): callable(user_id, since) -> int.
MEMBERSHIP_POINTS_EARNED_PROVIDER = "promotions.providers.points_earned_since"
# A burst of a member's events within this many seconds costs one profile update.
MEMBERSHIP_PROFILE_COALESCE_SECONDS = env.int("MEMBERSHIP_PROFILE_COALESCE_SECONDS", default=5)
MEMBERSHIP_AFFINITY_HALF_LIFE_DAYS = env.int("MEMBERSHIP_AFFINITY_HALF_LIFE_DAYS", default=30)
# Horizon of the nightly loyalty scores (days).
MEMBERSHIP_SCORE_HORIZON_DAYS = env.int("MEMBERSHIP_SCORE_HORIZON_DAYS", default=180)
# Who may not buy what (orders.restrictions): callables (user, product_ids) -> {id: reason}.
ORDERS_PURCHASE_RESTRICTION_PROVIDERS = ["membership.selectors.purchase_restrictions"]
# Which products are tier-exclusive, cached for what pages show (any tier/exclusive change
# deletes the key; 0 = read every request). Purchase checks always read the database.
MEMBERSHIP_EXCLUSIVES_CACHE_SECONDS = env.int("MEMBERSHIP_EXCLUSIVES_CACHE_SECONDS", default=300)
# --- recommendations ------------------------------------------------------------
# Seconds the hyperparameter search may take (the refit and publish come on top).
RECOMMEND_SEARCH_BUDGET_SECONDS = env.float("RECOMMEND_SEARCH_BUDGET_SECONDS", default=150.0)
# Most members scored on the validation split (a random sample beyond that).
RECOMMEND_VALIDATION_USERS = env.int("RECOMMEND_VALIDATION_USERS", default=3000)
# CPU threads of training (BLAS, implicit).
RECOMMEND_THREADS = env.int("RECOMMEND_THREADS", default=2)
RECOMMEND_LIST_SIZE = 100  # stored top-N per member
RECOMMEND_SIMILAR_SIZE = 30  # stored similar / bought-together items per product
# Versions whose lists are kept (the live one and the latest retired ones, for rollback).
RECOMMEND_KEEP_VERSIONS = env.int("RECOMMEND_KEEP_VERSIONS", default=3)
# A training run holding the lock longer than this is considered dead.
RECOMMEND_TRAIN_LOCK_SECONDS = env.int("RECOMMEND_TRAIN_LOCK_SECONDS", default=3600)
# A burst of a member's events within this window costs one fold-in.
RECOMMEND_FOLD_IN_COALESCE_SECONDS = env.float("RECOMMEND_FOLD_IN_COALESCE_SECONDS", default=2.0)
# Dotted paths of callables (user) -> set of product ids never shown to that member:
# products exclusive to tiers above the member's (membership).
RECOMMEND_EXCLUDE_PROVIDERS: list[str] = ["membership.selectors.restricted_product_ids"]
# Personalised re-ranking of search results (browsing): (user, [product ids]) -> ids.
SEARCH_RERANKER = env("SEARCH_RERANKER", default="recommend.serving.rerank_search")
CELERY_BEAT_SCHEDULE["recommend-train"] = {
    "task": "recommend.tasks.train_recommender",
    "schedule": 86400.0,
}

# --- static / media ---------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- REST API ---------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "config.api.pagination.StandardPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"auth": env("API_AUTH_THROTTLE", default="30/min")},
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "MemberMall API",
    "DESCRIPTION": "REST API for MemberMall mobile clients. Authenticate with "
    "`Authorization: Token <key>` from `POST /api/v1/auth/token/`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.schema.add_error_responses",
    ],
}

# --- logging ----------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
