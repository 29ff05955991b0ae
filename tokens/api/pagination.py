"""Keyset pagination of a snapshot's ordered matches: `next`/`previous` links with signed cursors."""

from __future__ import annotations

from typing import Any

from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from tokens.api.cursors import Cursor, encode_cursor
from tokens.records import Snapshot, Token
from tokens.selectors.paging import Page, index
from tokens.selectors.query import TokenQuery


class SnapshotCursorPagination(BasePagination):
    """Pages of at most `limit` tokens after/before a cursor's rank key; see tokens.selectors.query."""

    cursor_query_param = "cursor"

    def __init__(self) -> None:
        self.page: Page | None = None
        self.query: TokenQuery | None = None
        self.base_url = ""

    def paginate_snapshot(
        self, snapshot: Snapshot, query: TokenQuery, limit: int, cursor: Cursor | None, request: Request
    ) -> list[Token]:
        after = before = None
        if cursor is not None:
            if cursor.backward:
                before = cursor.key
            else:
                after = cursor.key
        self.page = index.page(snapshot, query, limit, after=after, before=before)
        self.query = query
        self.base_url = request.build_absolute_uri()
        return self.page.tokens

    def _link(self, cursor: Cursor | None) -> str | None:
        if cursor is None or self.query is None:
            return None
        return replace_query_param(self.base_url, self.cursor_query_param, encode_cursor(cursor, self.query))

    def get_next_link(self) -> str | None:
        page = self.page
        if page is None or not page.has_next or page.last_key is None:
            return None
        return self._link(Cursor(key=page.last_key))

    def get_previous_link(self) -> str | None:
        page = self.page
        if page is None or not page.has_previous:
            return None
        if page.first_key is None:  # an empty page past the end: go back to the start
            return remove_query_param(self.base_url, self.cursor_query_param)
        return self._link(Cursor(key=page.first_key, backward=True))

    def get_paginated_response(self, data: Any, meta: dict[str, Any] | None = None) -> Response:
        return Response(
            {
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
                "meta": meta,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["next", "previous", "results", "meta"],
            "properties": {
                "next": {"type": "string", "format": "uri", "nullable": True},
                "previous": {"type": "string", "format": "uri", "nullable": True},
                "results": schema,
                "meta": {"type": "object"},
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return []  # `cursor` and `limit` are described with the other query parameters
