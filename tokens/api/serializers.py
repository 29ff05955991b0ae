"""Query-parameter validation (filter serializers) and response shapes for the OpenAPI schema.

Responses are rendered by tokens.tokenjson (plain dicts, fast); the response serializers here
only describe them to drf-spectacular, field for field.
"""

from __future__ import annotations

import math
from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers
from rest_framework.fields import empty

from tokens.api.cursors import Cursor, InvalidCursor, decode_cursor
from tokens.ingest.parsers.parsing import is_mint  # noqa: F401 - used by views as serializers.is_mint
from tokens.records import TIMEFRAMES
from tokens.selectors.query import DEFAULT_ORDERING, DEFAULT_TIMEFRAME, ORDERINGS, TokenQuery

LIMIT_DEFAULT, LIMIT_MAX = 50, 200
_SLUG = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
_PROTOCOLS = rf"^ *{_SLUG} *(, *{_SLUG} *){{0,19}}$"
_PROTOCOL_HELP = "Expected up to 20 comma-separated dex ids such as raydium,pumpswap,meteora,orca."


class GivenEmptyIsInvalid:
    """A parameter given empty (`?timeframe=`) is validated as "", not replaced by its default.

    DRF treats an empty query value of an optional field as absent; the schema allows only the
    field's own values, so the API answers 400 for "" as for any other value outside them.
    """

    def get_value(self, dictionary: Any) -> Any:
        if self.field_name in dictionary and dictionary.get(self.field_name) == "":  # type: ignore[attr-defined]
            return ""
        return super().get_value(dictionary)  # type: ignore[misc]


class StrictChoiceField(GivenEmptyIsInvalid, serializers.ChoiceField):
    pass


class StrictIntegerField(GivenEmptyIsInvalid, serializers.IntegerField):
    pass


# A signed cursor as tokens/api/cursors.py makes it (django.core.signing): base64url parts joined by ":".
CURSOR_PATTERN = r"^([A-Za-z0-9_-]+(:[A-Za-z0-9_-]+)+)?$"


def _choice(choices: tuple[str, ...], default: str, help_text: str) -> serializers.ChoiceField:
    accepted = ", ".join(choices)
    return StrictChoiceField(
        choices=choices,
        default=default,
        help_text=help_text,
        error_messages={"invalid_choice": f'"{{input}}" is not a valid choice. Choose one of {accepted}.'},
    )


def page_limit(default: int, maximum: int, help_text: str) -> serializers.IntegerField:
    """A `limit` parameter: an integer 1..maximum, every error naming that range."""
    accepted = f"an integer from 1 to {maximum}"
    return StrictIntegerField(
        default=default,
        min_value=1,
        max_value=maximum,
        help_text=help_text,
        error_messages={
            "invalid": f"A valid {accepted} is required.",
            "min_value": f"Must be {accepted}.",
            "max_value": f"Must be {accepted}.",
        },
    )


class AmountField(GivenEmptyIsInvalid, serializers.FloatField):
    """A non-negative, finite USD amount."""

    default_error_messages = {
        "invalid": "A valid non-negative number (USD) is required.",
        "min_value": "Must be a non-negative number (USD), got a negative one.",
        "max_string_length": "String value too large.",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, min_value=0, **kwargs)

    def to_internal_value(self, data: Any) -> float:
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("invalid")
        return value


class PercentField(AmountField):
    """A finite percentage, 0..100."""

    default_error_messages = {
        "invalid": "A valid number from 0 to 100 (percent) is required.",
        "min_value": "Must be a number from 0 to 100 (percent).",
        "max_value": "Must be a number from 0 to 100 (percent).",
        "max_string_length": "String value too large.",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_value=100, **kwargs)


class StrictBooleanField(GivenEmptyIsInvalid, serializers.BooleanField):
    """`true` or `false` only (DRF's BooleanField also takes 1/0/yes/on…, which the schema does not list)."""

    default_error_messages = {"invalid": 'Must be "true" or "false".'}
    default_empty_html = empty  # absent from the query string: no filter (not False, as for an HTML form)
    _ACCEPTED = {"true": True, "false": False}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        value = self._ACCEPTED.get(str(data).strip().lower()) if isinstance(data, str) else None
        if value is None:
            self.fail("invalid")
        return value


class TimeframeQuerySerializer(serializers.Serializer):
    timeframe = _choice(
        tuple(TIMEFRAMES), DEFAULT_TIMEFRAME, "Window of volume, transactions and price change."
    )


class TokenListQuerySerializer(TimeframeQuerySerializer):
    """Every query parameter of GET /api/tokens/, validated together (one 400 names them all)."""

    ordering = _choice(
        ORDERINGS,
        DEFAULT_ORDERING,
        "Sort field, `-` prefix for descending; unknown values sort last either way. "
        "`age` is the time since the pair's creation (`age` = newest first).",
    )
    limit = page_limit(LIMIT_DEFAULT, LIMIT_MAX, f"Page size, 1..{LIMIT_MAX}.")
    cursor = serializers.RegexField(
        CURSOR_PATTERN,
        required=False,
        allow_blank=True,
        max_length=1000,
        help_text="Opaque cursor from a previous page's `next` or `previous` (signed; bound to the query).",
        error_messages={"invalid": "Invalid cursor.", "max_length": "Invalid cursor."},
    )
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        # DRF refuses NUL in every CharField; the pattern puts that rule in the schema as well
        validators=[RegexValidator(r"^[^\x00]*$", message="Null characters are not allowed.")],
        help_text="Case-insensitive substring of the name or ticker, or an exact mint address.",
    )
    protocol = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=500,
        validators=[RegexValidator(_PROTOCOLS, message=_PROTOCOL_HELP)],
        help_text="Comma-separated dex ids (raydium, pumpswap, meteora, orca, …) of the most liquid pool; "
        "`raydium` also matches Raydium CLMM/CPMM.",
    )
    min_liquidity = AmountField(
        help_text="Minimum liquidity in USD; tokens with unknown liquidity are left out."
    )
    min_volume = AmountField(help_text="Minimum volume in USD over `timeframe`; unknown volume is left out.")
    min_market_cap = AmountField(help_text="Minimum market cap in USD; unknown market cap is left out.")
    max_market_cap = AmountField(help_text="Maximum market cap in USD; unknown market cap is left out.")
    min_holders = StrictIntegerField(
        required=False,
        min_value=0,
        max_value=10**12,
        help_text="Minimum holder count (Jupiter); tokens with an unknown holder count are left out.",
        error_messages={
            "invalid": "A valid non-negative integer is required.",
            "min_value": "Must be a non-negative integer.",
            "max_value": "Must be at most 1000000000000.",
            "max_string_length": "String value too large.",
        },
    )
    max_top_holders_pct = PercentField(
        help_text="Maximum percent of the supply held by the top holders, 0..100; unknown is left out."
    )
    verified = StrictBooleanField(
        help_text="`true`: only tokens Jupiter verified; `false`: only unverified ones; unknown is left out."
    )
    safe = StrictBooleanField(
        help_text="`true`: mint and freeze authority both disabled; `false`: at least one still live. "
        "Tokens whose authorities are unknown are left out either way.",
    )

    def validate_protocol(self, value: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.strip().lower() for p in value.split(",") if p.strip()))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        query = TokenQuery(
            timeframe=attrs["timeframe"],
            ordering=attrs["ordering"],
            q=(attrs.get("q") or "").strip() or None,
            protocols=attrs.get("protocol") or (),
            min_liquidity=attrs.get("min_liquidity"),
            min_volume=attrs.get("min_volume"),
            min_market_cap=attrs.get("min_market_cap"),
            max_market_cap=attrs.get("max_market_cap"),
            min_holders=attrs.get("min_holders"),
            max_top_holders_pct=attrs.get("max_top_holders_pct"),
            verified=attrs.get("verified"),
            safe=attrs.get("safe"),
        )
        cursor: Cursor | None = None
        if attrs.get("cursor"):
            try:
                cursor = decode_cursor(attrs["cursor"], query)
            except InvalidCursor:
                raise serializers.ValidationError({"cursor": ["Invalid cursor."]}) from None
        return {"query": query, "limit": attrs["limit"], "cursor": cursor}


# --- response shapes (schema only) ---------------------------------------------------------------


def _num(help_text: str = "") -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, help_text=help_text)


def _int(help_text: str = "") -> serializers.IntegerField:
    return serializers.IntegerField(allow_null=True, help_text=help_text)


def _text(help_text: str = "") -> serializers.CharField:
    return serializers.CharField(allow_null=True, help_text=help_text)


def _time(help_text: str = "") -> serializers.DateTimeField:
    return serializers.DateTimeField(allow_null=True, help_text=help_text)


class TokenSerializer(serializers.Serializer):
    """TOKEN: one merged token for the requested timeframe; unknown values are null, never 0."""

    token_address = serializers.CharField(help_text="Mint address (base58, 32 bytes).")
    token_name = _text()
    token_ticker = _text()
    icon = _text("Image URL.")
    protocol = _text("Readable dex name of the most liquid pool, e.g. `Raydium CLMM`.")
    pair_address = _text("The most liquid pool.")
    pair_created_at = _time()
    price_usd = _num("Liquidity-weighted price over the token's pools, checked across sources.")
    price_sol = _num()
    market_cap_usd = _num()
    market_cap_sol = _num()
    fdv_usd = _num()
    liquidity_usd = _num("Summed over distinct pools.")
    liquidity_sol = _num()
    volume_usd = _num("Over `timeframe`, summed over distinct pools.")
    volume_sol = _num()
    transaction_count = _int("Over `timeframe` (null for 7d).")
    buys = _int()
    sells = _int()
    price_change = _num("Percent over `timeframe`, of the most liquid pool.")
    price_1hr_change = _num()
    price_24h_change = _num()
    holder_count = _int("Holders, from Jupiter (null when it has not reported it).")
    top_holders_pct = _num("Percent of the supply held by the top holders (Jupiter's audit), 0..100.")
    mint_authority_disabled = serializers.BooleanField(allow_null=True, help_text="No one can mint more.")
    freeze_authority_disabled = serializers.BooleanField(
        allow_null=True, help_text="No one can freeze holders' accounts."
    )
    verified = serializers.BooleanField(allow_null=True, help_text="Verified by Jupiter.")
    organic_score = _num("Jupiter's organic score, 0..100.")
    sources = serializers.ListField(child=serializers.CharField(), help_text="Every source that reported it.")
    updated_at = serializers.DateTimeField()


class PoolSerializer(serializers.Serializer):
    address = serializers.CharField()
    dex = serializers.CharField(help_text="Readable dex name.")
    dex_id = serializers.CharField(help_text="Dex slug, as accepted by `protocol`.")
    quote_token = serializers.CharField(help_text="Quote token mint.")
    quote_symbol = _text()
    price_usd = _num()
    liquidity_usd = _num()
    created_at = _time()
    volume_usd = serializers.DictField(child=_num(), help_text="Volume per timeframe (5m, 1h, 6h, 24h, 7d).")
    sources = serializers.ListField(child=serializers.CharField())


class SourcePriceSerializer(serializers.Serializer):
    price_usd = _num()
    market_cap_usd = _num()
    volume_24h_usd = _num()
    fetched_at = _time()
    excluded = serializers.BooleanField(help_text="True when left out of the merged price as an outlier.")


class TokenDetailSerializer(TokenSerializer):
    pools = PoolSerializer(many=True)
    by_source = serializers.DictField(child=SourcePriceSerializer(), help_text="Each source's own figures.")


class SourceStatusSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    fetched_at = _time("Last successful fetch.")
    error = _text("Last error, cleared by the next success.")


class MetaSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Matches of the filters, over all pages.")
    timeframe = serializers.CharField()
    ordering = serializers.CharField()
    snapshot_id = _int("Merged snapshot the page was read from (null before the first).")
    generated_at = _time("When that snapshot was merged.")
    age_seconds = _num("Seconds since the newest successful upstream fetch the snapshot holds.")
    stale = serializers.BooleanField(help_text="age_seconds over CACHE_TTL_SECONDS, or no data.")
    sources = serializers.DictField(child=SourceStatusSerializer())


@extend_schema_serializer(many=False)  # the list action answers one envelope object, not an array
class TokenListSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = TokenSerializer(many=True)
    meta = MetaSerializer()


class DetailMessageSerializer(serializers.Serializer):
    detail = serializers.CharField()


class NoSnapshotSerializer(DetailMessageSerializer):
    meta = MetaSerializer()
