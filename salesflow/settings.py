"""SalesFlow settings: the only settings module. Everything comes from the environment (12-factor).

Defaults run with nothing else installed: SQLite, Celery tasks in-process, email to the console.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# The default key is for development only; `check --deploy` flags it until SECRET_KEY is set.
SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-salesflow-development-key-set-SECRET_KEY-in-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "core",
    "accounts",
    "pipeline",
    "analytics",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "salesflow.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "salesflow.navigation.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "salesflow.wsgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Third-party front-end files come from npm (package.json + package-lock.json), never from a CDN.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/htmx", BASE_DIR / "node_modules/htmx.org/dist"),
    ("vendor/chartjs", BASE_DIR / "node_modules/chart.js/dist"),
    ("vendor/sortablejs", BASE_DIR / "node_modules/sortablejs"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="SalesFlow <salesflow@localhost>")

# Security: clean under `manage.py check --deploy` once DEBUG=False and served over HTTPS.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# Django REST framework. Viewsets set pagination and filter backends themselves (core/api.py); the
# schema class and throttles live in modules DRF can import while it defines its own views.
REST_FRAMEWORK = {
    # Token first: an unauthenticated request answers 401 with WWW-Authenticate: Token.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "salesflow.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "core.throttles.AnonRateThrottle",
        "core.throttles.UserRateThrottle",
        "core.throttles.ScopedRateThrottle",
    ],
    # Read per request, so the environment (and tests) can change them.
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/minute"),
        "user": env.str("API_THROTTLE_USER", default="6000/minute"),
        "auth": env.str("API_THROTTLE_AUTH", default="20/minute"),  # POST /api/v1/auth/token/, per client address
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SalesFlow API",
    "DESCRIPTION": (
        "REST API of SalesFlow, a CRM for stage-gated B2B field sales. Sign in with a session, or get a token "
        "from POST /api/v1/auth/token/ and send `Authorization: Token <token>`. You see what SPEC's visibility "
        "rule lets you see; anything else answers 404. Errors answer the Error shape. Amounts are CNY."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "OpportunityStatusEnum": "pipeline.models.Opportunity.Status",
        "VisitStatusEnum": "pipeline.models.Visit.Status",
        "VisitKindEnum": "pipeline.models.Visit.Kind",
        "CriterionKindEnum": "pipeline.models.StageCriterion.Kind",
        "CriterionInputTypeEnum": "pipeline.models.StageCriterion.InputType",
        "LossReasonEnum": "pipeline.models.Opportunity.LossReason",
        "SourceEnum": "pipeline.models.Opportunity.Source",
        "UntouchedCauseEnum": "pipeline.models.Opportunity.UntouchedCause",
        "RoleEnum": "accounts.models.User.Role",
        "LanguageEnum": "accounts.models.User.Language",
        "RegionLevelEnum": "accounts.models.Region.Level",
        "PeriodTypeEnum": "pipeline.models.SalesTarget.PeriodType",
    },
}

# Celery: in-process (eager) without REDIS_URL, a real Redis broker with it.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Longer than the longest task, so a late-acked task is not redelivered while it still runs.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT * 2}
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Crontab times are in CELERY_TIMEZONE (Asia/Shanghai).
CELERY_BEAT_SCHEDULE: dict = {
    # CV/PV of this and last year, untouched targets, stale opportunities: pages read what this leaves.
    "nightly-analytics": {
        "task": "analytics.tasks.enqueue_nightly_analytics_task",
        "schedule": crontab(hour=1, minute=0),
    },
    # Weekly digests go out at Monday 08:00 in each user's own time zone; every 15 minutes enqueues those now due.
    "weekly-digests": {
        "task": "analytics.tasks.enqueue_weekly_digests_task",
        "schedule": crontab(minute="*/15"),
    },
}

# SalesFlow: every number of SPEC lives here and nowhere else.
SALESFLOW_FOLLOW_UP_DAYS = env.list("SALESFLOW_FOLLOW_UP_DAYS", cast=int, default=[7, 30])
SALESFLOW_UNTOUCHED_LOOKBACK_DAYS = env.int("SALESFLOW_UNTOUCHED_LOOKBACK_DAYS", default=90)
SALESFLOW_UNTOUCHED_DAYS = env.int("SALESFLOW_UNTOUCHED_DAYS", default=90)
SALESFLOW_STALE_DAYS = env.int("SALESFLOW_STALE_DAYS", default=21)
SALESFLOW_STABLE_CV = env.float("SALESFLOW_STABLE_CV", default=0.25)
SALESFLOW_VALUE_PER_UNIT = env.int("SALESFLOW_VALUE_PER_UNIT", default=30000)
SALESFLOW_SPEND_PER_EMPLOYEE = env.int("SALESFLOW_SPEND_PER_EMPLOYEE", default=500)
# Fixed CV/PV thresholds in CNY; unset means the company-wide median.
SALESFLOW_CV_THRESHOLD = env.float("SALESFLOW_CV_THRESHOLD", default=None)
SALESFLOW_PV_THRESHOLD = env.float("SALESFLOW_PV_THRESHOLD", default=None)
SALESFLOW_VISIT_BACKDATE_DAYS = env.int("SALESFLOW_VISIT_BACKDATE_DAYS", default=30)
SALESFLOW_BOARD_CARDS_PER_COLUMN = env.int("SALESFLOW_BOARD_CARDS_PER_COLUMN", default=20)
SALESFLOW_CLOSES_AHEAD_DAYS = env.int("SALESFLOW_CLOSES_AHEAD_DAYS", default=30)
# Territory analysis by last year's CV: band edges in CNY ("<first", "first–second", ..., "≥last").
SALESFLOW_CV_BANDS = env.list("SALESFLOW_CV_BANDS", cast=int, default=[100000, 500000, 1000000])
