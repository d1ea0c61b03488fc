"""``/docs``: the console's OpenAPI description as a page (no CDN, no script).

FastAPI's stock page loads Swagger UI from a CDN, which the console's CSP forbids and
an offline install cannot reach, so the same ``/openapi.json`` is rendered on the
server: every path, its methods, parameters and request body fields.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from shequn.console.context import render, require

router = APIRouter()


def _fields(schema: dict[str, Any], components: dict[str, Any]) -> list[dict[str, Any]]:
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        schema = components.get(ref.rsplit("/", 1)[1], {})
    required = set(schema.get("required", ()))
    return [
        {"name": name, "type": prop.get("type", "object"), "required": name in required}
        for name, prop in schema.get("properties", {}).items()
    ]


def operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per path and method, in the spec's order."""
    components = spec.get("components", {}).get("schemas", {})
    rows = []
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            body: dict[str, Any] = op.get("requestBody", {}).get("content", {})
            first: dict[str, Any] = next(iter(body.values()), {})
            form: dict[str, Any] = first.get("schema", {})
            rows.append(
                {
                    "path": path,
                    "method": method.upper(),
                    "summary": op.get("summary", ""),
                    "params": [
                        {"name": p["name"], "in": p["in"], "required": p.get("required", False)}
                        for p in op.get("parameters", [])
                    ],
                    "body": _fields(form, components),
                }
            )
    return rows


@router.get("/openapi.json", include_in_schema=False)
def openapi_json(request: Request) -> Response:
    require(request)
    return JSONResponse(request.app.openapi())


@router.get("/docs", include_in_schema=False)
def docs_page(request: Request) -> Response:
    require(request)
    return render(request, "apidocs.html", operations=operations(request.app.openapi()))
