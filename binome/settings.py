"""Settings of Binôme, read from environment variables with safe local defaults.

A wrong value stops the start with a message that names the variable.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: str) -> bool:
    value = os.environ.get(name, default).strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} doit valoir true ou false, pas « {value} ».")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} doit être un nombre entier, pas « {value} ».") from None


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


TESTING = "pytest" in sys.modules or os.environ.get("BINOME_TESTING") == "1"
DEBUG = envbool("DEBUG", "true")
# Known to all: `binome serve` (binome.site.production) refuses to start with it.
DEVELOPMENT_SECRET_KEY = "insecure-local-key-only-for-development-and-tests"  # noqa: S105
SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY doit être défini quand DEBUG=false.")
    SECRET_KEY = DEVELOPMENT_SECRET_KEY

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
BASE_URL = env("BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.forms",
    "widget_tweaks",
    "dsfr",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "procrastinate.contrib.django",
    "binome.core",
    "binome.accounts",
    "binome.territories",
    "binome.organisations",
    "binome.access",
    "binome.directory",
    "binome.api",
    "binome.people",
    "binome.support",
    "binome.referrals",
    "binome.childcare",
    "binome.rsa",
    "binome.steering",
    "binome.retention",
    "binome.notifications",
    "binome.site",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "binome.core.middleware.RequestBodyLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise: static files keep their own headers.
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "binome.core.middleware.PermissionsPolicyMiddleware",
    "binome.core.middleware.PrivateResponsesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "binome.accounts.middleware.IdleSessionTimeoutMiddleware",
    "django.middleware.common.CommonMiddleware",
    "binome.core.middleware.BoundedPathIntsMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "binome.accounts.middleware.SecondFactorMiddleware",
    "binome.organisations.middleware.CurrentOrganisationMiddleware",
    "binome.access.middleware.DeferredReadsMiddleware",
    "binome.core.middleware.RefuseNulCharacterMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "binome.api.middleware.JsonErrorsMiddleware",
    "binome.core.middleware.OwnErrorPagesMiddleware",
]

ROOT_URLCONF = "binome.urls"
WSGI_APPLICATION = "binome.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "binome" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "binome.site.context_processors.site",
                "binome.notifications.context_processors.notifications",
            ],
            "string_if_invalid": "",
        },
    }
]
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
# The DSFR marks optional fields, not required ones (read by django-dsfr's field snippets;
# binome.core.forms.BinomeForm gives the same choice to the form templates).
DSFR_MARK_OPTIONAL_FIELDS = True

# --- Database --------------------------------------------------------------------
# DATABASE_URL points to an external PostgreSQL (>= 15). Without it, Binôme uses its
# embedded cluster under var/ (see binome/core/embedded_pg.py), on a Unix socket.
if env("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(env("DATABASE_URL"), conn_max_age=60)}
    EMBEDDED_DATABASE = False
else:
    from binome.core import embedded_pg

    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": embedded_pg.DB_NAME,
            "USER": embedded_pg.DB_USER,
            "HOST": embedded_pg.socket_dir(),
            "CONN_MAX_AGE": 60,
        }
    }
    EMBEDDED_DATABASE = True
# One test database per test run: several runs can share a cluster without colliding.
# Typo-tolerant search: word similarity from 0.45 (pg_trgm's default, 0.6, misses
# "quimpr" → Quimper). Set per connection so that the trigram indexes serve the operator.
# A persistent connection is checked before a request reuses it: after PostgreSQL restarts,
# the next request opens a new one (no restart of the web processes).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
    "-c pg_trgm.word_similarity_threshold=0.45 -c plan_cache_mode=force_generic_plan"
)
# Prepared statements: only those a cursor runs with ``prepare=True`` (the directory's
# search, ``binome.directory.search``); Django's cursors bind on the client and never
# prepare. psycopg prepares nothing when this is None (Django's default), and would
# prepare any statement run this many times by a server-binding cursor. A prepared
# statement is planned once, generically (``plan_cache_mode``, which concerns prepared
# statements only): left to choose, PostgreSQL planned the words search's statement
# anew at each run (1 to 2 ms) for a plan of the same shape.
DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 2**31 - 1)
DATABASES["default"]["TEST"] = {"NAME": f"test_binome_{os.getpid()}"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# DATABASE_REPLICA_URL: a streaming replica of the primary. The steering's figures
# (dashboards, exports, figures pages) read from it, the professionals' pages never do;
# when it is down, they are read from the primary (binome/core/replica.py).
if env("DATABASE_REPLICA_URL"):
    try:
        DATABASES["replica"] = dj_database_url.parse(env("DATABASE_REPLICA_URL"), conn_max_age=60)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"DATABASE_REPLICA_URL n'est pas une adresse PostgreSQL valide : {exc}"
        ) from exc
    if not DATABASES["replica"].get("ENGINE", "").endswith("postgresql"):
        raise ImproperlyConfigured("DATABASE_REPLICA_URL doit désigner une base PostgreSQL.")
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)
    # The tests read the replica as the primary (no second test database).
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["binome.core.replica.ReplicaRouter"]

# --- Accounts and security ----------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Argon2 with minimal cost keeps the algorithm under test while the suite stays fast.
    PASSWORD_HASHERS = ["binome.accounts.hashers.FastArgon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "site:home"
LOGOUT_REDIRECT_URL = "site:home"
PASSWORD_RESET_TIMEOUT = 2 * 3600  # a reset link is valid two hours
INVITATION_TIMEOUT_DAYS = 7

# Sessions: absolute lifetime of a working day, closed after an idle hour. In the database
# (Django's backend, its read compiled once per process).
SESSION_ENGINE = "binome.accounts.sessions"
SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 10 * 3600)
SESSION_IDLE_TIMEOUT = envint("SESSION_IDLE_TIMEOUT", 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE = envbool("SECURE_COOKIES", "false" if DEBUG else "true")
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Production answers only over HTTPS: either Binôme redirects plain HTTP itself, or
# (SECURE_COOKIES) the HTTPS proxy in front of it says the scheme in X-Forwarded-Proto.
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "false")
# Content-Security-Policy (django.middleware.csp): scripts, styles, images, fonts and
# requests from Binôme's own origin only — no inline script or style attribute in the
# templates (tests/core/test_headers.py keeps it so), no plugin, no framing.
# form-action also covers the redirects that follow a form: the logout form of an agent
# logged in with ProConnect goes on to ProConnect's session end.
SECURE_CSP: dict[str, list[str]] = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
if SECURE:
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# The client's address (binome.access.audit.client_ip) for the audit log, the lockouts and
# the rate limits: the number of reverse proxies of ours in front of Binôme, each adding
# the address it received the request from to X-Forwarded-For. 0: the header is ignored.
PROXY_COUNT = envint("PROXY_COUNT", 0)
if PROXY_COUNT < 0:
    raise ImproperlyConfigured("PROXY_COUNT doit être un nombre entier positif ou nul.")

# Login throttling: five failures lock the e-mail for 15 minutes (django-axes, on the
# e-mail in lower case), 30 failures from one address lock that address for any account
# (counted on the audit log: binome.accounts.lockout).
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5)
LOGIN_ADDRESS_FAILURE_LIMIT = envint("LOGIN_ADDRESS_FAILURE_LIMIT", 30)
AXES_COOLOFF_TIME = 0.25  # hours
# Axes locks per account; the address has its own, higher limit: a whole France Travail
# agency shares one public IP.
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "binome.accounts.lockout.lockout_username"
AXES_CLIENT_IP_CALLABLE = "binome.access.audit.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "binome.accounts.views.lockout_response"
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True

SILENCED_SYSTEM_CHECKS = ["axes.W006"]

OTP_TOTP_ISSUER = "Binôme"
OTP_TOTP_THROTTLE_FACTOR = 1

# ProConnect (OpenID Connect) — enabled when its three variables are set.
PROCONNECT_ISSUER = env("PROCONNECT_ISSUER").rstrip("/")
PROCONNECT_CLIENT_ID = env("PROCONNECT_CLIENT_ID")
PROCONNECT_CLIENT_SECRET = env("PROCONNECT_CLIENT_SECRET")
PROCONNECT_SCOPES = env("PROCONNECT_SCOPES", "openid email given_name usual_name siret uid")
PROCONNECT_ENABLED = bool(PROCONNECT_ISSUER and PROCONNECT_CLIENT_ID and PROCONNECT_CLIENT_SECRET)
if PROCONNECT_ENABLED:
    _issuer = urlsplit(PROCONNECT_ISSUER)
    SECURE_CSP["form-action"].append(f"{_issuer.scheme}://{_issuer.netloc}")

# --- E-mail ---------------------------------------------------------------------------
# Django 6.1 mailers: SMTP when EMAIL_HOST is set, else the console (development).
if env("EMAIL_HOST"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": env("EMAIL_HOST"),
                "port": envint("EMAIL_PORT", 587),
                "username": env("EMAIL_HOST_USER"),
                "password": env("EMAIL_HOST_PASSWORD"),
                "use_tls": envbool("EMAIL_USE_TLS", "true"),
                "timeout": 20,
            },
        }
    }
elif DEBUG:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
else:
    raise ImproperlyConfigured("EMAIL_HOST doit être défini quand DEBUG=false.")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Binôme <ne-pas-repondre@binome.localhost>")

# --- Internationalisation ---------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = BASE_DIR / "var" / "media"
WHITENOISE_USE_FINDERS = DEBUG
# In development and tests, look files up on request instead of indexing them all when
# the middleware starts (each test client starts it anew).
WHITENOISE_AUTOREFRESH = DEBUG or TESTING

# --- Logging ----------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING" if TESTING else "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "procrastinate": {"level": "WARNING"},
    },
}

# --- Background jobs (procrastinate, on PostgreSQL) ------------------------------------
# Tasks are discovered in the apps' tasks.py modules; the worker is `binome worker`.

# --- The service -----------------------------------------------------------------------
SITE_TITLE = "Binôme"
SITE_TAGLINE = "L'outil partagé de l'accompagnement global"
DEMO_PASSWORD = "Binome-demo-2026"  # noqa: S105 - printed for the demo territory only

# --- Partners' API ----------------------------------------------------------------------
# Requests per token and per minute, counted in PostgreSQL (shared by every web process).
API_RATE_LIMIT = envint("BINOME_API_RATE_LIMIT", 600)
if API_RATE_LIMIT < 1:
    raise ImproperlyConfigured("BINOME_API_RATE_LIMIT doit être un nombre entier positif.")

# --- Person identifiers (binome.people.crypto) ------------------------------------------
# The NIR is stored as a keyed hash (matching) and encrypted (display to the roles that need
# it). Production sets both keys; in development they are derived from SECRET_KEY.
PERSON_MATCHING_KEY = env("PERSON_MATCHING_KEY")
PERSON_ENCRYPTION_KEY = env("PERSON_ENCRYPTION_KEY")
if not (PERSON_MATCHING_KEY and PERSON_ENCRYPTION_KEY) and not DEBUG:
    raise ImproperlyConfigured(
        "PERSON_MATCHING_KEY et PERSON_ENCRYPTION_KEY doivent être définis quand DEBUG=false."
    )
if not PERSON_MATCHING_KEY or not PERSON_ENCRYPTION_KEY:
    from binome.people.crypto import derived_key

    PERSON_MATCHING_KEY = PERSON_MATCHING_KEY or derived_key(SECRET_KEY, "matching")
    PERSON_ENCRYPTION_KEY = PERSON_ENCRYPTION_KEY or derived_key(SECRET_KEY, "encryption")
CONSENT_DOCUMENT_MAX_BYTES = 5 * 1024 * 1024
REFERRAL_ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024

# --- Request bodies (binome.core.middleware.RequestBodyLimitMiddleware) -----------------
# A body larger than its URL's largest legitimate upload is refused (413) before it is read;
# the fields then have Django's limits (the files are spooled to disk past 2.5 Mo).
MEGABYTE = 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * MEGABYTE // 2
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * MEGABYTE // 2
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = 10
REQUEST_BODY_MAX_BYTES = 4 * MEGABYTE
REQUEST_BODY_MAX_BYTES_BY_URL = {
    # The two files of a directory import (structures, services), 50 Mo each at most
    # (binome.directory.imports.MAX_FILE_BYTES), and the form around them.
    "directory:import_list": 2 * 50 * MEGABYTE + MEGABYTE,
    # An RSA flow or spreadsheet (binome.rsa.imports.MAX_FILE_BYTES) and the form around it.
    "rsa_imports:import_list": 100 * MEGABYTE + MEGABYTE,
    # A referral's attachments (5 documents at most) and the form.
    "referrals:create": 5 * REFERRAL_ATTACHMENT_MAX_BYTES + MEGABYTE,
    "people:consent_add": CONSENT_DOCUMENT_MAX_BYTES + MEGABYTE,
}

# --- Signed links of the referrals to structures without an account -------------------
# Days a link stays valid from its sending (the sender can send a new one at any time);
# refused openings from one address within 10 minutes before it is told to wait.
REFERRAL_LINK_DAYS = envint("BINOME_REFERRAL_LINK_DAYS", 30)
# Identity searches (NIR, or names and birth date, before creating a file or an
# orientation) a professional may make per hour; each one is a line of the audit log.
IDENTITY_SEARCHES_PER_HOUR = envint("BINOME_IDENTITY_SEARCHES_PER_HOUR", 30)
if REFERRAL_LINK_DAYS < 1:
    raise ImproperlyConfigured("BINOME_REFERRAL_LINK_DAYS doit être un nombre entier positif.")
REFERRAL_LINK_MAX_REFUSALS = 20

# --- Retention (CNIL référentiel social et médico-social) ------------------------------
# A file is kept this many months after the last contact, then anonymised; its team is
# told this many days before. The audit log is kept this many whole months (a month is a
# partition of its table, dropped by the retention job). The privacy page reads them.
BINOME_RETENTION_MONTHS = envint("BINOME_RETENTION_MONTHS", 24)
BINOME_RETENTION_NOTICE_DAYS = envint("BINOME_RETENTION_NOTICE_DAYS", 30)
BINOME_AUDIT_RETENTION_MONTHS = envint("BINOME_AUDIT_RETENTION_MONTHS", 12)
BINOME_RETENTION_BATCH = envint("BINOME_RETENTION_BATCH", 500)
if not 12 <= BINOME_RETENTION_MONTHS <= 36:
    raise ImproperlyConfigured("BINOME_RETENTION_MONTHS doit être compris entre 12 et 36.")
if not 1 <= BINOME_RETENTION_NOTICE_DAYS <= 90:
    raise ImproperlyConfigured("BINOME_RETENTION_NOTICE_DAYS doit être compris entre 1 et 90.")
if not 6 <= BINOME_AUDIT_RETENTION_MONTHS <= 24:
    raise ImproperlyConfigured("BINOME_AUDIT_RETENTION_MONTHS doit être compris entre 6 et 24.")
if BINOME_RETENTION_BATCH < 1:
    raise ImproperlyConfigured("BINOME_RETENTION_BATCH doit être un nombre entier positif.")
