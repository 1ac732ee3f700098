"""SalesFlow settings: the only settings module. Everything comes from the environment (12-factor).

Defaults run with nothing else installed: SQLite, Celery tasks in-process, email to the console.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp import constants as csp_constants
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
    "django.contrib.postgres",  # OpClass in index expressions (the trigram search indexes)
    "rest_framework",
    "django_filters",
    "axes",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
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
    "csp.middleware.CSPMiddleware",
    "core.middleware.PermissionsPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in on any other form (the admin's) into a 429.
    "axes.middleware.AxesMiddleware",
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
# The hot page statements composed once (core.statements) are also prepared in each PostgreSQL connection; off
# behind a pooler that hands one session's statements to another (PgBouncer in transaction mode).
SALESFLOW_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
# What the planner assumes a page read from anywhere in a table costs, relative to the next page of a scan (4 by
# PostgreSQL's default, made for spinning disks; 1.1 is the usual value for SSDs and data held in memory). With 4, a
# rep's matrix hashed the company's whole year of values rather than looking up their 60 accounts' (3 ms -> 0.3 ms
# at scale 10, and growing with the company). Empty: not sent, for a pooler that refuses startup options (PgBouncer
# unless told to ignore them); set it on the server then.
DATABASE_RANDOM_PAGE_COST = env.str("DATABASE_RANDOM_PAGE_COST", default="1.1").strip()
if DATABASE_RANDOM_PAGE_COST:
    DATABASE_RANDOM_PAGE_COST = str(float(DATABASE_RANDOM_PAGE_COST))  # a number, or the settings fail to load
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    server_settings = [f"-c random_page_cost={DATABASE_RANDOM_PAGE_COST}"] if DATABASE_RANDOM_PAGE_COST else []
    if SALESFLOW_PREPARED_STATEMENTS:
        # One generic plan per prepared statement: only the statements core.statements prepares are concerned (Django
        # prepares none), and planning them anew for each viewer cost more than running them.
        server_settings.append("-c plan_cache_mode=force_generic_plan")
    if server_settings:
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = " ".join(server_settings)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# django-axes first: it refuses a locked-out username or address before any password is checked (see AXES_ below).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
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
# How many reverse proxies stand in front of the app, each appending to X-Forwarded-For. 0: the header is ignored and
# a client is its connection's address (REMOTE_ADDR), for sign-in lockouts and API throttles alike.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
# X-Forwarded-Proto says "this came over HTTPS" only when a proxy sets it; with no proxy a client could claim it.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if NUM_PROXIES else None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): scripts only from our own static files, never inline; inline style
# attributes stay allowed (bar widths, htmx's indicator style), no plugins, no framing, forms post only to us.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp_constants.SELF],
        "script-src": [csp_constants.SELF],
        "style-src": [csp_constants.SELF, csp_constants.UNSAFE_INLINE],
        "img-src": [csp_constants.SELF, "data:"],
        "font-src": [csp_constants.SELF],
        "connect-src": [csp_constants.SELF],
        "frame-src": [csp_constants.SELF],
        "object-src": [csp_constants.NONE],
        "base-uri": [csp_constants.SELF],
        "form-action": [csp_constants.SELF],
        "frame-ancestors": [csp_constants.NONE],
    }
}
# Browser features no page of ours uses are switched off for the page and anything it embeds.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
# The OpenAPI schema and its docs need a signed-in user unless this opens them to everyone.
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # django-axes says at INFO what it does on every sign-in; its warnings (failures, lockouts) are what matters.
    "loggers": {"axes": {"level": "WARNING"}},
}

# Django REST framework. Viewsets set pagination and filter backends themselves (core/api.py); the
# schema class and throttles live in modules DRF can import while it defines its own views.
REST_FRAMEWORK = {
    # Token first: an unauthenticated request answers 401 with WWW-Authenticate: Token.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.TokenAuthentication",
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
    # Our throttles ask core.throttles.client_address, which follows NUM_PROXIES too; DRF's own default (None)
    # would believe any X-Forwarded-For a client sends.
    "NUM_PROXIES": NUM_PROXIES,
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
# Every job takes seconds (the nightly ones well under a minute at ten times the demo company), so five minutes is
# ample; a task still running then is killed, and a digest claim that old is taken over (core.mail).
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=5 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=4 * 60)
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task is acknowledged when it ends (acks_late), so one whose worker dies mid-run stays in Redis's "unacked" set and
# is handed to another worker once the visibility timeout has passed since delivery. The trade-off: shorter means a
# killed worker's tasks come back sooner, but Redis redelivers any task unacknowledged that long, finished or not, so
# it must exceed the longest a task can run (the hard time limit), or a slow task would run twice at once. Hence the
# time limit plus a minute: a killed task is redelivered within about six minutes. Tasks given a countdown or ETA
# beyond it would be redelivered early too; our retries wait seconds. Workers look for such tasks every tenth of the
# timeout (30 s at most) instead of kombu's default of every 100 s.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=CELERY_TASK_TIME_LIMIT + 60)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": max(1, min(30, CELERY_VISIBILITY_TIMEOUT // 10)),
    "unacked_restore_throttle": 1,
}
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
    # Weekly digests go out at Monday 08:00 in each user's own time zone; every 15 minutes enqueues those now due,
    # so a digest lost from the queue (a Redis restart without persistence) is enqueued again by the next tick.
    "weekly-digests": {
        "task": "analytics.tasks.enqueue_weekly_digests_task",
        "schedule": crontab(minute="*/15"),
    },
    # Daily reminders go out from 08:00 in each user's own time zone on days when something of theirs is due; every 15
    # minutes enqueues those now due and not sent yet.
    "daily-reminders": {
        "task": "analytics.tasks.enqueue_daily_reminders_task",
        "schedule": crontab(minute="10-59/15"),
    },
    # Monday 00:00: each person's forecast of the current month, quarter and year, kept so the forecast page shows how
    # the numbers and the manager's call moved (the catch-up tick takes it later when it was missed).
    "forecast-snapshot": {
        "task": "analytics.tasks.take_forecast_snapshot_task",
        "schedule": crontab(hour=0, minute=0, day_of_week="mon"),
    },
    # Every minute: webhook deliveries due (retries with backoff, and any lost from the queue) are sent
    # (pipeline/webhooks/).
    "webhook-sweeper": {
        "task": "pipeline.tasks.sweep_webhook_deliveries_task",
        "schedule": crontab(minute="*"),
    },
    # Every 15 minutes: a nightly job that has not succeeded since it was due today is enqueued again (analytics.jobs).
    "catch-up": {
        "task": "analytics.tasks.catch_up_nightly_analytics_task",
        "schedule": crontab(minute="5-59/15"),
    },
}

# Cache: Redis when REDIS_URL is set, so all web workers share the API throttle counts; otherwise this process's
# memory (one development server). Keys carry a prefix, apart from Celery's keys in the same Redis database (which is
# why the cache is never cleared there: Django's clear() empties the whole database, queued tasks included).
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="salesflow"),
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    ),
    # The `{% cache %}` fragments of base.html (the navigation, header and footer chrome): markup that depends only on
    # the code, the role, the language and the current page, never on data, so each process keeps its own copy until
    # it restarts (a deployment). Per-user and per-request parts (name, CSRF token, forms) are rendered every time.
    "template_fragments": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "template-fragments",
        "TIMEOUT": None,
        "OPTIONS": {"MAX_ENTRIES": 2000},
    },
}

# Sign-in protection (django-axes; core/signin.py says what a locked-out attempt answers). Failed sign-ins on the
# login page, the admin and POST /api/v1/auth/token/ are counted per username and per client address (NUM_PROXIES
# above) in a store all workers share: Redis through the cache when REDIS_URL is set, the database otherwise. After
# AXES_FAILURE_LIMIT failures that username, and that address, are refused for AXES_COOLOFF_TIME, right password or
# not. A failure is forgotten once that long has passed without another; attempts while locked are refused without
# being counted, so a lock ends when its time is up. A success resets nothing (a guesser with an account of their own
# cannot wipe the count). `manage.py axes_reset_username NAME` / `axes_reset_ip ADDRESS` lift a lock early.
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler" if REDIS_URL else "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env.int("SIGN_IN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("SIGN_IN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = False
AXES_CLIENT_IP_CALLABLE = "core.throttles.client_address"
AXES_USERNAME_CALLABLE = "core.signin.lockout_username"
AXES_LOCKOUT_CALLABLE = "core.signin.lockout_response"
AXES_DISABLE_ACCESS_LOG = True  # successful sign-ins are not logged to the database
AXES_ENABLE_ADMIN = False  # attempts live in Redis in production; the commands above work with either store
AXES_VERBOSE = False  # no banner on every start of manage.py

# API tokens (accounts/tokens.py): one per device, stored hashed, void after this many days or a password change.
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=30)

# Account import (manage.py import_accounts): a larger file is refused before any of it is read.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=20 * 1024 * 1024)

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
# A retried API POST with the same Idempotency-Key gets the first answer again within this many hours.
SALESFLOW_IDEMPOTENCY_HOURS = env.int("SALESFLOW_IDEMPOTENCY_HOURS", default=24)
# Webhooks (issue 14): how long one POST may take (connect, and each read), and how long a delivery is retried.
SALESFLOW_WEBHOOK_TIMEOUT_SECONDS = env.float("SALESFLOW_WEBHOOK_TIMEOUT_SECONDS", default=5)
SALESFLOW_WEBHOOK_RETRY_HOURS = env.int("SALESFLOW_WEBHOOK_RETRY_HOURS", default=24)
