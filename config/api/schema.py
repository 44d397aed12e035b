"""OpenAPI post-processing: document the shared error body on every operation.

Every endpoint can answer with the one error shape of ``config.api.errors``;
this hook adds it as the ``Error`` component and lists the 4xx statuses an
operation can give, so clients see them in /api/docs/.
"""

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every 4xx response has this body.",
    "properties": {
        "code": {"type": "string", "example": "validation_error"},
        "message": {"type": "string", "example": "The request is invalid."},
        "detail": {
            "description": "Field errors or extra data; null when there is nothing more to say.",
            "nullable": True,
        },
    },
    "required": ["code", "message", "detail"],
}

_DESCRIPTIONS = {
    "400": "Invalid input (field errors in `detail`).",
    "401": "Not authenticated.",
    "403": "Not allowed.",
    "404": "Not found (also an out-of-range `page`).",
    "429": "Too many requests, or the account is locked after failed logins.",
}


def add_error_responses(result, generator, request, public):
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            statuses = ["400", "404", "429"]
            if any(req for req in operation.get("security", []) if req):
                statuses += ["401", "403"]
            responses = operation["responses"]
            for status in statuses:
                responses.setdefault(
                    status,
                    {
                        "description": _DESCRIPTIONS[status],
                        "content": {"application/json": {"schema": ref}},
                    },
                )
    return result
