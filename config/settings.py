"""Django settings, read once from the environment (django-environ); see README "Configuration"."""

from __future__ import annotations

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

DEV_SECRET_KEY = "dev-insecure-secret-key-change-me-in-production-0123456789abcdef"

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured(
        "Refusing to start: DJANGO_DEBUG is false but DJANGO_SECRET_KEY is the development key. "
        "Set DJANGO_SECRET_KEY to a long random value (e.g. the output of "
        "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`) before running in production."
    )
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's assets, pinned and served by the service (offline docs)
    "solo",
    "channels",
    "tokens",
    "realtime",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Failed admin logins are counted per client address; past the limit the login answers 429.
    "tokens.ops.login_throttle.admin_login_throttle",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL: the worker writes candles while web processes read them. Set on every connection (the
    # mode persists in the file, but a fresh file starts in rollback-journal mode); IMMEDIATE
    # transactions take the write lock up front, so two writers wait (timeout) instead of failing
    # with "database is locked" on a lock upgrade.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Production: hashed, compressed files from `collectstatic` (cached forever by browsers); the
    # development server and tests read the app directories as they are.
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if DEBUG
        else "tokens.infra.static_storage.ManifestStaticFilesStorage"
    },
}

# --- Redis: cache (snapshots, locks, rate-limit state), Celery broker, channel layer ---------------
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "mds",
        "TIMEOUT": None,
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 2,
            "SOCKET_TIMEOUT": 5,
            "CONNECTION_POOL_KWARGS": {"health_check_interval": 10, "retry_on_timeout": True},
        },
    }
}

# Channel layer (README "Realtime"): "redis" = channels_redis's RedisChannelLayer (default: per-process
# inbox in Redis, so a short Redis or web-process hiccup loses nothing; fan-out measured as fast as
# pub/sub, see bench/bench_ws.py), "pubsub" = channels_redis's RedisPubSubChannelLayer (at-most-once).
CHANNEL_LAYER = env.str("CHANNEL_LAYER", default="redis")
if CHANNEL_LAYER not in ("redis", "pubsub"):
    raise ImproperlyConfigured(f'CHANNEL_LAYER must be "redis" or "pubsub", not {CHANNEL_LAYER!r}.')
CHANNEL_LAYERS = {
    "default": (
        {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py's default 5 s socket timeout equals the layer's 5 s BZPOPMIN, so an idle
            # receive loop would fail with TimeoutError now and then: reads here wait 15 s.
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": 15, "socket_connect_timeout": 5}],
                "capacity": 1000,
                "expiry": 60,
            },
        }
        if CHANNEL_LAYER == "redis"
        else {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}
    )
}

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=50)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=60)
# A source's refresh lock lives this much longer than the hard time limit: long enough for a
# worker to release it after the limit, short enough that a killed worker's lock frees soon.
REFRESH_LOCK_MARGIN_SECONDS = env.int("REFRESH_LOCK_MARGIN_SECONDS", default=15)
if REFRESH_LOCK_MARGIN_SECONDS < 1:
    raise ImproperlyConfigured(
        f"REFRESH_LOCK_MARGIN_SECONDS must be at least 1 (seconds), not {REFRESH_LOCK_MARGIN_SECONDS}."
    )
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Upstream sources -----------------------------------------------------------------------------
DEXSCREENER_BASE_URL = env.str("DEXSCREENER_BASE_URL", default="https://api.dexscreener.com").rstrip("/")
JUPITER_BASE_URL = env.str("JUPITER_BASE_URL", default="https://api.jup.ag").rstrip("/")
JUPITER_API_KEY = env.str("JUPITER_API_KEY", default="") or None
GECKOTERMINAL_BASE_URL = env.str(
    "GECKOTERMINAL_BASE_URL", default="https://api.geckoterminal.com/api/v2"
).rstrip("/")

DEXSCREENER_RPM = env.int("DEXSCREENER_RPM", default=300)
DEXSCREENER_DISCOVERY_RPM = env.int("DEXSCREENER_DISCOVERY_RPM", default=60)
JUPITER_RPM = env.int("JUPITER_RPM", default=60 if JUPITER_API_KEY else 30)
GECKOTERMINAL_RPM = env.int("GECKOTERMINAL_RPM", default=30)
UPSTREAM_TIMEOUT_SECONDS = env.float("UPSTREAM_TIMEOUT_SECONDS", default=8.0)
UPSTREAM_MAX_ATTEMPTS = env.int("UPSTREAM_MAX_ATTEMPTS", default=3)

# Discovery: DexScreener search queries (comma-separated; "SOL/USDC" also yields the SOL price pool)
# and how many pages of each GeckoTerminal pool list a discovery round reads.
DEXSCREENER_SEARCH_QUERIES = env.list("DEXSCREENER_SEARCH_QUERIES", default=["SOL/USDC", "pump"])
GECKOTERMINAL_DISCOVERY_PAGES = env.int("GECKOTERMINAL_DISCOVERY_PAGES", default=2)
# Share of each GeckoTerminal refresh's calls kept for the slow daily-OHLCV sweep (7d figures).
OHLCV_SHARE = env.float("OHLCV_SHARE", default=0.2)
# Share of GeckoTerminal's calls for the history backfill of new tokens (their minute/hour OHLCV), the
# lowest-priority purpose: it is offered last, after token data and the daily OHLCV.
BACKFILL_SHARE = env.float("BACKFILL_SHARE", default=0.2)
if not (OHLCV_SHARE >= 0 and BACKFILL_SHARE >= 0 and OHLCV_SHARE + BACKFILL_SHARE < 1):
    raise ImproperlyConfigured(
        f"OHLCV_SHARE ({OHLCV_SHARE}) and BACKFILL_SHARE ({BACKFILL_SHARE}) must be 0 or more and leave "
        "token data a share (their sum below 1)."
    )
# GeckoTerminal answers the same request from its cache for about this long: not repeated sooner (0: off).
GECKOTERMINAL_CACHE_SECONDS = env.float("GECKOTERMINAL_CACHE_SECONDS", default=60.0)
if GECKOTERMINAL_CACHE_SECONDS < 0:
    raise ImproperlyConfigured(
        f"GECKOTERMINAL_CACHE_SECONDS must be 0 or more (seconds), not {GECKOTERMINAL_CACHE_SECONDS}."
    )

REFRESH_SECONDS = env.float("REFRESH_SECONDS", default=10.0)
# Each tracked token's holder and authority data (Jupiter) is re-read at least this often.
SAFETY_REFRESH_SECONDS = env.float("SAFETY_REFRESH_SECONDS", default=600.0)
if SAFETY_REFRESH_SECONDS < 10:
    raise ImproperlyConfigured(
        f"SAFETY_REFRESH_SECONDS must be at least 10 (seconds), not {SAFETY_REFRESH_SECONDS}."
    )
DISCOVERY_SECONDS = env.float("DISCOVERY_SECONDS", default=60.0)
CACHE_TTL_SECONDS = env.float("CACHE_TTL_SECONDS", default=30.0)
TOKEN_UNIVERSE_MAX = env.int("TOKEN_UNIVERSE_MAX", default=500)
# A source whose price is off from the others' median by more than this factor is left out.
PRICE_OUTLIER_FACTOR = env.float("PRICE_OUTLIER_FACTOR", default=3.0)
# How long the event replay log keeps events (docs/api.md: at least 15 minutes).
EVENT_LOG_SECONDS = env.int("EVENT_LOG_SECONDS", default=1800)

# Candle retention per interval, in days (0 = forever): "1m=2,5m=14" overrides those two intervals.
CANDLE_INTERVALS = ("1m", "5m", "15m", "1h", "4h", "1d")
_CANDLE_RETENTION_DEFAULT = "1m=2,5m=14,15m=30,1h=180,4h=0,1d=0"
_retention_text = env.str("CANDLE_RETENTION_DAYS", default=_CANDLE_RETENTION_DEFAULT)


def _retention_days(text: str) -> dict[str, int]:
    return {k.strip(): int(v) for k, v in environ.Env.parse_value(text, dict).items()}


try:
    _retention = _retention_days(_retention_text)
except (TypeError, ValueError, IndexError) as exc:
    raise ImproperlyConfigured(
        f"CANDLE_RETENTION_DAYS must look like {_CANDLE_RETENTION_DEFAULT!r} "
        f"(interval=whole days, 0 = forever), not {_retention_text!r}: {exc}"
    ) from None
_bad_retention = {k: v for k, v in _retention.items() if k not in CANDLE_INTERVALS or v < 0}
if not _retention_text.strip() or _bad_retention:
    raise ImproperlyConfigured(
        f"CANDLE_RETENTION_DAYS must look like {_CANDLE_RETENTION_DEFAULT!r}: intervals "
        f"{', '.join(CANDLE_INTERVALS)}, each = whole days >= 0 (0 = forever); not {_retention_text!r}."
    )
CANDLE_RETENTION_DAYS = {
    **_retention_days(_CANDLE_RETENTION_DEFAULT),
    **_retention,
}
# The retention task deletes at most this many rows per statement, and stops after CANDLE_RETENTION_BATCHES.
CANDLE_RETENTION_BATCH = env.int("CANDLE_RETENTION_BATCH", default=5000)
CANDLE_RETENTION_SECONDS = env.float("CANDLE_RETENTION_SECONDS", default=600.0)

# --- REST API -----------------------------------------------------------------------------------
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="600/min")
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_ALLOW_ALL_ORIGINS = env.bool("CORS_ALLOW_ALL_ORIGINS", default=False)
CORS_URLS_REGEX = r"^/api/.*$"
CORS_EXPOSE_HEADERS = ["ETag", "Retry-After"]

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": [
        "tokens.api.renderers.ORJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["tokens.api.throttling.IPRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": API_THROTTLE_RATE},
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Solana meme-coin market data",
    "DESCRIPTION": "Merged DexScreener, Jupiter and GeckoTerminal data for Solana tokens.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # /api/docs/ loads Swagger UI from our own static files (drf-spectacular-sidecar), never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Production hardening (on when DJANGO_DEBUG=false) -------------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REDIRECT_EXEMPT = [r"^api/health/$", r"^metrics$"]
    SESSION_COOKIE_HTTPONLY = True
    X_FRAME_OPTIONS = "DENY"

# Admin login throttle (config/login_throttle.py): failures per client address before a lockout.
ADMIN_LOGIN_MAX_FAILURES = env.int("ADMIN_LOGIN_MAX_FAILURES", default=5)
ADMIN_LOGIN_LOCKOUT_SECONDS = env.int("ADMIN_LOGIN_LOCKOUT_SECONDS", default=900)

# --- Operations: /metrics access (tokens/ops/metrics_view.py) and logging --------------------------------
# Addresses or networks allowed to read /metrics (empty: any). In production the default is the
# loopback and private ranges, so a Prometheus on the internal network can scrape but the public
# cannot (behind a proxy, REMOTE_ADDR is the X-Forwarded-For the proxy sets).
_PRIVATE_NETWORKS = ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=[] if DEBUG else _PRIVATE_NETWORKS)
# When set, /metrics also requires `Authorization: Bearer <METRICS_TOKEN>`.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# One line per event; LOG_FORMAT=json: one JSON object per line with the message's key=value
# pairs as fields (tokens/infra/log_format.py). Worker and beat apply the same dict (config/celery.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f'LOG_FORMAT must be "text" or "json", not {LOG_FORMAT!r}.')
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s [%(process)d] %(name)s %(message)s"},
        "json": {"()": "tokens.infra.log_format.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Replaces Django's default DEBUG-only console handler, which would print each line twice.
        "django": {"handlers": [], "level": "INFO"},
        "daphne": {"level": "WARNING"},
        "django.channels.server": {"level": "WARNING"},
        # Celery's per-task "received"/"succeeded" lines repeat what the tasks log themselves.
        "celery.worker.strategy": {"level": "WARNING"},
        "celery.app.trace": {"level": "WARNING"},
    },
}
