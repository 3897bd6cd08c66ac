"""The OpenAPI 3.1 description of ``/api/v1/`` (served as ``openapi.json``).

Path parameters carry the URLconf's names (``community_slug``, ``metric``), and the
schemas list exactly the keys ``analytics.serializers`` writes; tests check both.
"""

from django.utils import translation

from analytics.definitions import DEFINITIONS
from analytics.metrics import INTERVALS, STAGE_RULES
from analytics.serializers import CSV_METRICS
from communities.validators import EARLIEST_DATE, LATEST_DATE

NUMBER_OR_NULL = {"type": ["number", "null"]}
INTEGER = {"type": "integer"}
DAY = {"type": "string", "format": "date"}
# A query date may be left empty (as a form sends it): the default is used.
DAY_OR_EMPTY = {"type": "string", "anyOf": [{"format": "date"}, {"const": ""}]}
ACTION_INDEX = {
    **NUMBER_OR_NULL,
    "description": "Action power: the mean of participants ÷ invited over the calls to action "
    "(closed occurrences, challenge days past their deadline) of the 30 local days ending on "
    "the day; null without any call (never 0).",
}
COMMUNITY_VALUE = {
    **NUMBER_OR_NULL,
    "description": "Members on the day × the action index; null without an index.",
}
CHECK_IN_COMPLETION = {
    **NUMBER_OR_NULL,
    "description": "Challenges running on the day: check-ins recorded on their elapsed days ÷ "
    "(participants × days elapsed); a day counts once its deadline has passed. null without "
    "an elapsed day of a running challenge.",
}
ACTION_HEADLINE = {
    "action_index": ACTION_INDEX,
    "community_value": COMMUNITY_VALUE,
    "check_in_completion": CHECK_IN_COMPLETION,
}
SOP_COMPLETION = {
    "type": "object",
    "properties": {
        "rate": {
            **NUMBER_OR_NULL,
            "description": "Checklist items done on time ÷ items due, 0…1; null when no item "
            "fell due (never 0).",
        },
        "due": {
            **INTEGER,
            "description": "Items of not cancelled runs of the window's local days whose due "
            "time has passed.",
        },
        "on_time": {**INTEGER, "description": "Of those, ticked at or before their due time."},
        "done": {**INTEGER, "description": "Of those, ticked at all (late or not)."},
        "window_days": {**INTEGER, "description": "The window: the 30 local days to the day."},
    },
    "required": ["rate", "due", "on_time", "done", "window_days"],
    "additionalProperties": False,
    "description": "SOP completion (checklists) over the 30 local days ending on the day "
    "(`to`, or the community's today in lists).",
}
DATE_RULES = (
    f" Days lie between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}, `from`"
    " not after `to` and at most five years before it; otherwise 400 says which rule."
)


def _object(properties: dict, description: str = "") -> dict:
    schema = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _list_of(name: str) -> dict:
    return {"type": "array", "items": _ref(name)}


def _json_response(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


SCHEMAS = {
    "Detail": _object({"detail": {"type": "string"}}),
    "Errors": _object(
        {"errors": {"type": "array", "items": {"type": "string"}}},
        "Every problem with the parameters, in the request's language (Accept-Language).",
    ),
    "Community": _object(
        {
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "platform": {"type": "string"},
            "time_zone": {"type": "string", "description": "Days and weeks are counted here."},
        }
    ),
    "CommunitySummary": _object(
        {
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "platform": {"type": "string"},
            "time_zone": {"type": "string"},
            "stage": {
                "type": "string",
                "enum": ["budding", "growth", "active", "decline", "dormant"],
            },
            "members": INTEGER,
            "wau": INTEGER,
            "mainstream_share": NUMBER_OR_NULL,
            "silent": {"type": "boolean"},
            "activation": {"type": "string", "enum": ["activated", "at_risk", "unknown"]},
            **ACTION_HEADLINE,
            "sop_completion": _ref("SopCompletion"),
        },
        "Figures at the community's today (in its time zone).",
    ),
    "Indicators": _object(
        {
            "day": DAY,
            "members": INTEGER,
            "dau": INTEGER,
            "wau": INTEGER,
            "mau": INTEGER,
            "stickiness": {**NUMBER_OR_NULL, "description": "Mean DAU over 30 days / MAU."},
            "interaction_frequency": {
                **NUMBER_OR_NULL,
                "description": "Events per active member-day over 30 days.",
            },
            "mainstream": {**INTEGER, "description": "Members active on ≥ 4 of 30 days."},
            "mainstream_share": NUMBER_OR_NULL,
            "events_30": INTEGER,
        },
        "Core indicators at `to`.",
    ),
    "ActivityPoint": _object(
        {
            "start": {**DAY, "description": "First day of the period."},
            "events": INTEGER,
            "active": {
                **INTEGER,
                "description": "DAU (day), WAU at the week's last day, MAU at the month's.",
            },
        }
    ),
    "RetentionCell": _object(
        {
            "offset": INTEGER,
            "retained": {"type": ["integer", "null"], "description": "null: not begun yet."},
            "rate": NUMBER_OR_NULL,
        }
    ),
    "Cohort": _object(
        {"week": DAY, "size": INTEGER, "offsets": _list_of("RetentionCell")},
        "Members who joined in the ISO week starting `week`; offsets 0…12.",
    ),
    "RetentionPoint": _object({"offset": INTEGER, "rate": NUMBER_OR_NULL}),
    "Retention": _object(
        {"cohorts": _list_of("Cohort"), "curve": _list_of("RetentionPoint")},
        "The 12 weekly cohorts up to `to`'s week.",
    ),
    "LifecycleWeek": _object(
        {
            "week": DAY,
            "active": INTEGER,
            "new": INTEGER,
            "returning": INTEGER,
            "resurrecting": INTEGER,
            "dormant": INTEGER,
        }
    ),
    "Stage": _object(
        {
            "code": {
                "type": "string",
                "enum": ["budding", "growth", "active", "decline", "dormant"],
            },
            "label": {"type": "string"},
            "figures": _object(
                {
                    "events_7": INTEGER,
                    "events_28": INTEGER,
                    "events_prev_28": INTEGER,
                    "events_change": NUMBER_OR_NULL,
                    "wau": INTEGER,
                    "members": INTEGER,
                    "wau_share": NUMBER_OR_NULL,
                    "members_28_ago": INTEGER,
                    "members_change": NUMBER_OR_NULL,
                    "age_days": INTEGER,
                }
            ),
            "reasons": {
                "type": "array",
                "items": _ref("StageReason"),
                "description": "The tests that decided the stage (a decline may have two).",
            },
            "thresholds": _object(
                {
                    "dormant_days": INTEGER,
                    "budding_days": INTEGER,
                    "decline_drop_percent": INTEGER,
                    "decline_wau_share_percent": INTEGER,
                    "growth_percent": INTEGER,
                }
            ),
        },
        "Lifecycle stage at `to`, with the figures and thresholds that decided it.",
    ),
    "StageReason": _object(
        {
            "rule": {"type": "string", "enum": list(STAGE_RULES)},
            "figures": {"type": "object", "additionalProperties": INTEGER},
            "thresholds": {"type": "object", "additionalProperties": INTEGER},
        },
        "A test of the stage rules that held, with the figures it compared and its thresholds.",
    ),
    "Activation": _object(
        {
            "status": {"type": "string", "enum": ["activated", "at_risk", "unknown"]},
            "activated_members": INTEGER,
            "min_members": INTEGER,
            "min_active_days": INTEGER,
            "first_month_over": {"type": "boolean"},
        }
    ),
    "Silence": _object(
        {
            "silent": {"type": "boolean"},
            "last_activity_at": {"type": ["string", "null"], "format": "date-time"},
            "hours": INTEGER,
        },
        "Now, whatever `to` is.",
    ),
    "CommunityMetrics": _object(
        {
            "community": _ref("Community"),
            "params": _object(
                {
                    "from": DAY,
                    "to": DAY,
                    "interval": {"type": "string", "enum": list(INTERVALS)},
                }
            ),
            "indicators": _ref("Indicators"),
            "activity": _list_of("ActivityPoint"),
            "retention": _ref("Retention"),
            "lifecycle": _list_of("LifecycleWeek"),
            "stage": _ref("Stage"),
            "activation": _ref("Activation"),
            "silence": _ref("Silence"),
            "action_power": _ref("ActionPower"),
            "sop_completion": _ref("SopCompletion"),
        }
    ),
    "ActionPoint": _object(
        {
            "day": DAY,
            "calls": {**INTEGER, "description": "Calls to action in the 30 days ending on `day`."},
            "action_index": ACTION_INDEX,
        }
    ),
    "CallToAction": _object(
        {
            "day": {**DAY, "description": "Local day of the call in the community's time zone."},
            "kind": {
                "type": "string",
                "enum": ["occurrence", "challenge_day"],
                "description": "A closed occurrence (one per community it was relayed to), or "
                "a day of a check-in challenge whose deadline has passed.",
            },
            "title": {"type": "string"},
            "participants": {
                **INTEGER,
                "description": "Invited members of this community who attended or checked in.",
            },
            "invited": {
                **INTEGER,
                "description": "This community's invited members (the challenge's participants).",
            },
            "ratio": {"type": "number", "description": "participants ÷ invited."},
        }
    ),
    "ActionPower": _object(
        {
            "day": {**DAY, "description": "`to`: the day the figures are for."},
            "window_days": {**INTEGER, "description": "The window of the index: 30 days."},
            "members": {**INTEGER, "description": "Members on `day`."},
            "calls": {**INTEGER, "description": "Calls to action behind the index."},
            **ACTION_HEADLINE,
            "running_challenges": {**INTEGER, "description": "Challenges running on `day`."},
            "challenge_participants": {
                **INTEGER,
                "description": "Their participants, summed over the running challenges.",
            },
            "days_elapsed": {
                **INTEGER,
                "description": "Their days up to `day` whose deadline has passed, summed.",
            },
            "check_ins": {**INTEGER, "description": "Check-ins recorded on those days."},
            "expected_check_ins": {
                **INTEGER,
                "description": "Σ participants × days elapsed: the completion's denominator.",
            },
            "action_trend": {
                **_list_of("ActionPoint"),
                "description": "The action index of each day from `from` to `to`.",
            },
            "calls_to_action": {
                **_list_of("CallToAction"),
                "description": "The calls behind the index at `to`, by day.",
            },
        },
        "Action power (一致行动力) at `to`, its trend and the calls to action behind it.",
    ),
    "PortfolioRow": _object(
        {
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "platform": {"type": "string"},
            "time_zone": {"type": "string"},
            "day": DAY,
            "members": INTEGER,
            "retention_week_4": NUMBER_OR_NULL,
            "stickiness": NUMBER_OR_NULL,
            "mainstream_share": NUMBER_OR_NULL,
            **ACTION_HEADLINE,
            "sop_completion": _ref("SopCompletion"),
        }
    ),
    "SopCompletion": SOP_COMPLETION,
}

PARAMETERS = {
    "community_slug": {
        "name": "community_slug",
        "in": "path",
        "required": True,
        "description": "The community's slug.",
        "schema": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"},
    },
    "metric": {
        "name": "metric",
        "in": "path",
        "required": True,
        "description": "Which section: `action_power` is the action index per day, "
        "`calls_to_action` the calls behind the index at `to`, `sop_completion` the SOP "
        "completion of the 30 days to `to` (one row).",
        "schema": {"type": "string", "enum": list(CSV_METRICS)},
    },
    "from": {
        "name": "from",
        "in": "query",
        "description": "First day (YYYY-MM-DD). Empty or absent: 89 days before `to`." + DATE_RULES,
        "schema": DAY_OR_EMPTY,
    },
    "to": {
        "name": "to",
        "in": "query",
        "description": "Last day (YYYY-MM-DD). Empty or absent: the community's today."
        + DATE_RULES,
        "schema": DAY_OR_EMPTY,
    },
    "interval": {
        "name": "interval",
        "in": "query",
        "description": "Empty or absent: week.",
        "schema": {"type": "string", "enum": [*INTERVALS, ""], "default": "week"},
    },
}

RESPONSES = {
    "BadRequest": _json_response(
        "Bad parameters: an unknown name, a bad value, or a range the rules refuse.",
        _ref("Errors"),
    ),
    "Unauthorized": {
        **_json_response("No token, or an unknown or revoked one.", _ref("Detail")),
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    },
    "Forbidden": _json_response("The token's role may not read analytics.", _ref("Detail")),
    "NotFound": _json_response("No community of that slug that the token may see.", _ref("Detail")),
}


def _parameters(*names: str) -> list[dict]:
    return [{"$ref": f"#/components/parameters/{name}"} for name in names]


def _errors(*codes: str) -> dict:
    names = {"400": "BadRequest", "401": "Unauthorized", "403": "Forbidden", "404": "NotFound"}
    return {code: {"$ref": f"#/components/responses/{names[code]}"} for code in codes}


PATHS = {
    "/communities": {
        "get": {
            "operationId": "listCommunities",
            "summary": "The communities the token may see, with their headline figures.",
            "responses": {
                "200": _json_response(
                    "Communities (archived ones left out).",
                    _object({"communities": _list_of("CommunitySummary")}),
                ),
                **_errors("401", "403"),
            },
        }
    },
    "/communities/{community_slug}/metrics": {
        "get": {
            "operationId": "getCommunityMetrics",
            "summary": "Indicators, activity, retention, lifecycle, stage, activation, silence, "
            "action power.",
            "parameters": _parameters("community_slug", "from", "to", "interval"),
            "responses": {
                "200": _json_response("Everything for one community.", _ref("CommunityMetrics")),
                **_errors("400", "401", "403", "404"),
            },
        }
    },
    "/communities/{community_slug}/{metric}.csv": {
        "get": {
            "operationId": "getCommunityMetricCsv",
            "summary": "One section of the metrics as CSV (UTF-8 with BOM, English header).",
            "parameters": _parameters("community_slug", "metric", "from", "to", "interval"),
            "responses": {
                "200": {
                    "description": "The CSV file.",
                    "content": {"text/csv": {"schema": {"type": "string"}}},
                },
                **_errors("400", "401", "403", "404"),
            },
        }
    },
    "/portfolio": {
        "get": {
            "operationId": "getPortfolio",
            "summary": "Per community: week-4 retention, stickiness, mainstream share and action "
            "power.",
            "responses": {
                "200": _json_response(
                    "One row per community (archived ones left out).",
                    _object({"communities": _list_of("PortfolioRow")}),
                ),
                **_errors("401", "403"),
            },
        }
    },
    "/openapi.json": {
        "get": {
            "operationId": "getOpenApi",
            "summary": "This document.",
            "security": [],
            "responses": {"200": _json_response("The OpenAPI 3.1 document.", {"type": "object"})},
        }
    },
}


def _defined(schemas: dict) -> dict:
    """The schemas with each figure's one-line definition (``analytics.definitions``, the
    catalogue the pages' info popovers show) leading its description, in English (beside a
    ``$ref`` too: OpenAPI 3.1 allows a description there)."""
    with translation.override("en"):

        def walk(node):
            if isinstance(node, dict):
                properties = node.get("properties")
                out = {key: walk(value) for key, value in node.items()}
                if isinstance(properties, dict):
                    out["properties"] = {
                        name: _with_definition(name, walk(schema))
                        for name, schema in properties.items()
                    }
                return out
            if isinstance(node, list):
                return [walk(item) for item in node]
            return node

        return walk(schemas)


def _with_definition(name: str, schema: dict) -> dict:
    found = DEFINITIONS.get(name)
    if found is None or not isinstance(schema, dict):
        return schema
    detail = schema.get("description", "")
    line = str(found.text)
    return {**schema, "description": f"{line} {detail}".strip() if detail != line else line}


def document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "CommunityOps metrics API",
            "version": "1.0.0",
            "description": (
                "Read-only figures of the communities a token may see, from the rollups. "
                "Create a token under Settings → API tokens and send it as "
                "`Authorization: Bearer <key>`. A token acts with its owner's role and "
                "communities. Days and weeks (ISO, Monday start) are counted in each "
                "community's time zone."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        # A token only: no session cookie authenticates the API (analytics/api.py).
        "security": [{"bearer": []}],
        "paths": PATHS,
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token, `coa_…`.",
                },
            },
            "schemas": _defined(SCHEMAS),
            "parameters": PARAMETERS,
            "responses": RESPONSES,
        },
    }
