"""What the /api/tokens/… views share: the mint path parameter and error responses of the schema, ETag matching."""

from __future__ import annotations

from django.utils.http import parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from tokens.api import serializers as s

ERRORS = {
    304: OpenApiResponse(description="Not modified: `If-None-Match` matched the current `ETag`."),
    400: OpenApiResponse(
        OpenApiTypes.OBJECT,
        description='Bad parameter, in DRF\'s shape: `{"<parameter>": ["<what it accepts>"]}`.',
    ),
    429: OpenApiResponse(s.DetailMessageSerializer, description="Over the per-IP rate; see `Retry-After`."),
    503: OpenApiResponse(
        s.NoSnapshotSerializer,
        description="No snapshot has been published yet (the service has just started and is fetching); "
        "retry after `Retry-After` seconds.",
    ),
}
# base58 (no 0, O, I, l) of 32 bytes: 32 to 44 characters.
MINT_PATTERN = r"^[1-9A-HJ-NP-Za-km-z]{32,44}$"
MINT = OpenApiParameter(
    "mint",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="Token mint: base58 string decoding to 32 bytes.",
    pattern=MINT_PATTERN,
)


def matches(etag: str, if_none_match: str | None) -> bool:
    """Weak comparison of `etag` against an If-None-Match header value."""
    if not if_none_match:
        return False
    tags = parse_etags(if_none_match)
    return "*" in tags or etag.removeprefix("W/") in (t.removeprefix("W/") for t in tags)
