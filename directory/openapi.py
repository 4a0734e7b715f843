"""The OpenAPI 3.1 description of `/api/v1`, built from the same vocabularies the code uses."""

from __future__ import annotations

from typing import Any

from feeds.types import CONFIDENCES, DEADLINE_KINDS, FUNDING_KINDS, OPPORTUNITY_KINDS

from .filters import MAX_CLOSING_DAYS, MAX_QUERY_LENGTH, SORTS, STATUSES
from .regions import REGIONS

ARRAY_NOTE = " Repeat the parameter for several values; any of them matches."


def _parameter(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    many = schema.get("type") == "array"
    parameter = {
        "name": name,
        "in": "query",
        "required": False,
        "description": description + (ARRAY_NOTE if many else ""),
        "schema": schema,
    }
    if many:
        parameter.update(style="form", explode=True)
    return parameter


def _array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


PARAMETERS = [
    _parameter(
        "q",
        "Words to search for in title, organiser, place and summary; all must appear (stemmed). Punctuation and operators are plain text.",
        {"type": "string", "maxLength": MAX_QUERY_LENGTH},
    ),
    _parameter(
        "kind", "Kind of opportunity.", _array({"type": "string", "enum": list(OPPORTUNITY_KINDS)})
    ),
    _parameter(
        "country",
        "ISO 3166-1 alpha-2 country code.",
        _array({"type": "string", "pattern": "^[A-Za-z]{2}$"}),
    ),
    _parameter("region", "Region.", _array({"type": "string", "enum": list(REGIONS)})),
    _parameter(
        "closing",
        "Only opportunities with a deadline within this many days.",
        {"type": "integer", "minimum": 1, "maximum": MAX_CLOSING_DAYS},
    ),
    _parameter(
        "status",
        "open (a deadline ahead, or none stated), rolling, or past (every deadline closed).",
        {"type": "string", "enum": list(STATUSES), "default": "open"},
    ),
    _parameter(
        "funding", "What it pays for.", _array({"type": "string", "enum": list(FUNDING_KINDS)})
    ),
    _parameter(
        "online", "yes: online only; no: in person only.", {"type": "string", "enum": ["yes", "no"]}
    ),
    _parameter(
        "lang",
        "ISO 639-1 language code of the listing.",
        _array({"type": "string", "pattern": "^[a-z]{2,3}$"}),
    ),
    _parameter("source", "Source id.", _array({"type": "integer", "minimum": 1})),
    _parameter(
        "sort",
        "soonest deadline first, newest listed first, or relevance to q (needs q).",
        {"type": "string", "enum": list(SORTS), "default": "soonest"},
    ),
    _parameter(
        "cursor",
        "The `next` value of the previous page, with the same other parameters.",
        {"type": "string"},
    ),
    _parameter(
        "limit", "Items per page.", {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}
    ),
]

NULLABLE_STRING = {"type": ["string", "null"]}

SCHEMAS: dict[str, Any] = {
    "Deadline": {
        "type": "object",
        "required": ["kind", "date", "time", "tz", "utc", "evidence", "confidence"],
        "properties": {
            "kind": {"type": "string", "enum": list(DEADLINE_KINDS)},
            "date": {
                "type": "string",
                "format": "date",
                "description": "As the listing states it.",
            },
            "time": {
                **NULLABLE_STRING,
                "pattern": "^[0-2][0-9]:[0-5][0-9]$",
                "description": "As stated; null when the listing gives none (open until the end of the day).",
            },
            "tz": {
                **NULLABLE_STRING,
                "description": "Zone as stated (IANA name, AoE, UTC offset); null when none is stated (read as UTC+14, the earliest).",
            },
            "utc": {
                "type": "string",
                "format": "date-time",
                "description": "The instant it closes, in UTC.",
            },
            "evidence": {
                "type": "string",
                "description": "The phrase of the listing the deadline was read from.",
            },
            "confidence": {"type": "string", "enum": list(CONFIDENCES)},
        },
    },
    "Opportunity": {
        "type": "object",
        "required": [
            "id",
            "url",
            "link",
            "title",
            "kind",
            "countries",
            "online",
            "event_start",
            "event_end",
            "funding",
            "language",
            "sources",
            "deadlines",
        ],
        "properties": {
            "id": {"type": "integer"},
            "url": {"type": "string", "format": "uri", "description": "Its page on Openings."},
            "link": {**NULLABLE_STRING, "format": "uri", "description": "The original listing."},
            "title": {"type": "string"},
            "kind": {"type": "string", "enum": list(OPPORTUNITY_KINDS)},
            "organiser": NULLABLE_STRING,
            "countries": {"type": "array", "items": {"type": "string"}},
            "place": NULLABLE_STRING,
            "online": {"type": "boolean"},
            "event_start": {**NULLABLE_STRING, "format": "date"},
            "event_end": {**NULLABLE_STRING, "format": "date"},
            "funding": {
                "type": "object",
                "properties": {
                    "offered": {
                        "type": "array",
                        "items": {"type": "string", "enum": list(FUNDING_KINDS)},
                    },
                    "amount": {**NULLABLE_STRING, "description": "A decimal number, as text."},
                    "currency": {**NULLABLE_STRING, "description": "ISO 4217 code."},
                },
            },
            "language": NULLABLE_STRING,
            "rolling": {"type": "boolean"},
            "sources": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "link": NULLABLE_STRING},
                },
            },
            "deadlines": {"type": "array", "items": {"$ref": "#/components/schemas/Deadline"}},
            "summary": {"type": "string"},
            "updated_at": {"type": "string", "format": "date-time"},
        },
    },
    "Page": {
        "type": "object",
        "required": ["items", "next", "total"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Opportunity"}},
            "next": {
                **NULLABLE_STRING,
                "description": "Pass as `cursor` for the next page; null on the last.",
            },
            "total": {
                "type": "integer",
                "description": "How many match (may lag the data by a minute).",
            },
        },
    },
    "Error": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string"},
            "parameter": {
                "type": "string",
                "description": "The first parameter that could not be used.",
            },
            "message": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "object"}},
        },
    },
}


def document(server_url: str) -> dict[str, Any]:
    """The OpenAPI document, with `server_url` (…/api/v1) as its server."""
    error = {
        "description": "A parameter could not be used.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Openings API",
            "version": "1",
            "description": "Events, fellowships, calls and travel grants with their deadlines. The parameters are the same as the list page's.",
        },
        "servers": [{"url": server_url}],
        "paths": {
            "/opportunities": {
                "get": {
                    "operationId": "listOpportunities",
                    "summary": "Opportunities matching the filters, soonest deadline first by default.",
                    "parameters": PARAMETERS,
                    "responses": {
                        "200": {
                            "description": "A page of opportunities.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Page"}
                                }
                            },
                        },
                        "304": {"description": "Not modified since the ETag or date given."},
                        "400": error,
                    },
                }
            },
            "/opportunities/{id}": {
                "get": {
                    "operationId": "getOpportunity",
                    "summary": "One opportunity.",
                    "parameters": [
                        {
                            "name": "id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer"},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "The opportunity.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Opportunity"}
                                }
                            },
                        },
                        "304": {"description": "Not modified since the ETag or date given."},
                        "404": {
                            "description": "No such published opportunity.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Error"}
                                }
                            },
                        },
                    },
                }
            },
        },
        "components": {"schemas": SCHEMAS},
    }
