"""The REST routes' one declaration: each route names its body, query, reply and errors once, and
both the handler's validation and the OpenAPI document come from that declaration.

A route declared here gets, before its handler runs: the caller checked (`auth`), the JSON body
validated into `body=`, the query string into `query=`. The OpenAPI document lists exactly those
models, so the spec cannot drift from what the handlers accept.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, JsonSchemaValue, models_json_schema
from quart import Blueprint, request

from chat.auth.api_keys import Scope, required_scope
from chat.auth.roles import ROLES, Role
from chat.http.bodies import read_body, read_query
from chat.http.replies import ErrorReply
from chat.services import Services

# "token": the handler checks a bearer token of its own (a setting, not an agent's JWT); a role
# (chat/auth/roles.py): an agent's bearer token, of that role or above.
Auth = Literal["public", "token"] | Role
Handler = Callable[..., Awaitable[Any]]
CallerCheck = Callable[["Operation"], Awaitable[Any]]
Refs = dict[type[BaseModel], JsonSchemaValue]

OPENAPI_VERSION = "3.1.0"
SCHEMA_REF = "#/components/schemas/{model}"
_RULE_PART = re.compile(r"<(?:(\w+):)?(\w+)>")

# Every route may answer these: the request budget and storage outages.
_ALWAYS = (429, 503)
_ERROR_TEXT = {
    400: "Malformed request (e.g. the body is not a JSON object)",
    401: "Missing, invalid or expired credentials",
    403: "Not allowed for this caller",
    404: "Not found (another organization's objects are not found either)",
    409: "Conflicts with the current state",
    413: "Body over its size limit (64 KiB; 1 MiB for inbound mail)",
    415: "The body's Content-Type is not one this route reads",
    422: "The body or query failed validation; `details` lists the fields",
    429: "Too many requests; see the Retry-After header",
    503: "Storage is unavailable; retry",
}


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    rule: str
    summary: str
    tag: str
    auth: Auth
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    reply: type[BaseModel] | None
    status: int
    errors: tuple[int, ...]
    description: str | None
    raw_body: tuple[str, ...] = ()  # media types of a body read as is (not JSON)
    text_reply: tuple[str, ...] = ()  # media types the success answer may also be (a string)
    # The scope an API key needs here (chat/auth/api_keys.py); None: keys are refused (403).
    key_scope: Scope | None = None

    @property
    def role(self) -> Role | None:
        """The least role that may call this route; None for public and token routes."""
        return next((role for role in ROLES if role == self.auth), None)


@dataclass(frozen=True, slots=True)
class Declared:
    """A route as its module declared it: the operation and its handler."""

    operation: Operation
    handler: Handler


class Routes:
    """One resource module's routes, declared at module level with `route` (like a blueprint,
    but with the OpenAPI facts beside each handler). `Api.include` registers them."""

    def __init__(self, tag: str, *, api_keys: bool = False) -> None:
        self.tag = tag
        # Whether API keys may call this module's agent and admin routes (each route may say
        # otherwise). Off unless a module says so: a new module of sign-in or account routes
        # must not become reachable with a key by default (structures.md, "API keys").
        self.api_keys = api_keys
        self.declared: list[Declared] = []

    def route(
        self,
        method: str,
        rule: str,
        *,
        summary: str,
        auth: Auth = "agent",
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        reply: type[BaseModel] | None = None,
        status: int = 200,
        errors: tuple[int, ...] = (),
        raw_body: tuple[str, ...] = (),
        text_reply: tuple[str, ...] = (),
        api_keys: bool | None = None,
    ) -> Callable[[Handler], Handler]:
        """Declare a route. Its handler receives `services=` (the process's Services), `caller=`
        (for agent and admin routes), `body=` and `query=` (when declared), and the path's
        parameters. `raw_body` names the media types of a body the handler reads itself;
        `text_reply` those of a success answer that is text rather than `reply`'s JSON.
        `api_keys` (default: the module's) says whether an API key may call an agent or admin
        route; the scope it needs follows from the method and `auth`."""
        keys = self.api_keys if api_keys is None else api_keys

        def declare(handler: Handler) -> Handler:
            key_scope = None
            if keys and auth in ROLES:
                key_scope = required_scope(method, admin=auth == "admin")
            operation = Operation(
                method.lower(),
                rule,
                summary,
                self.tag,
                auth,
                body,
                query,
                reply,
                status,
                errors,
                inspect.getdoc(handler),
                raw_body,
                text_reply,
                key_scope,
            )
            self.declared.append(Declared(operation, handler))
            return handler

        return declare


class Api:
    """A blueprint with the routes of every included module, and the OpenAPI document of them."""

    def __init__(
        self, blueprint: Blueprint, services: Services, check_caller: CallerCheck, title: str
    ) -> None:
        self.blueprint = blueprint
        self.title = title
        self._services = services
        self._check_caller = check_caller
        self.operations: list[Operation] = []

    def include(self, routes: Routes) -> None:
        for declared in routes.declared:
            self._register(declared)

    def _register(self, declared: Declared) -> None:
        op, handler = declared.operation, declared.handler
        services, check_caller = self._services, self._check_caller

        @wraps(handler)
        async def view(**path: Any) -> Any:
            kwargs: dict[str, Any] = dict(path, services=services)
            if op.role is not None:
                kwargs["caller"] = await check_caller(op)
            if op.body is not None:
                kwargs["body"] = await read_body(op.body)
            if op.query is not None:
                kwargs["query"] = read_query(op.query, request.args)
            return await handler(**kwargs)

        self.blueprint.add_url_rule(
            op.rule, endpoint=handler.__name__, view_func=view, methods=[op.method.upper()]
        )
        self.operations.append(op)

    def openapi(self, prefix: str) -> dict[str, Any]:
        """The OpenAPI 3.1 document of every declared route."""
        wanted: set[tuple[type[BaseModel], JsonSchemaMode]] = {(ErrorReply, "serialization")}
        for op in self.operations:
            if op.body is not None:  # query models become parameters, not schemas
                wanted.add((op.body, "validation"))
            if op.reply is not None:
                wanted.add((op.reply, "serialization"))
        found, defs = models_json_schema(
            sorted(wanted, key=lambda pair: (pair[0].__name__, pair[1])), ref_template=SCHEMA_REF
        )
        refs: Refs = {}
        for (model, _mode), ref in found.items():
            assert isinstance(model, type) and issubclass(model, BaseModel)
            refs[model] = ref
        paths: dict[str, dict[str, Any]] = {}
        for op in self.operations:
            path, params = _openapi_path(prefix + op.rule)
            paths.setdefault(path, {})[op.method] = _operation(op, params, refs)
        return {
            "openapi": OPENAPI_VERSION,
            "info": {"title": self.title, "version": "1"},
            "paths": paths,
            "components": {
                "schemas": defs.get("$defs", {}),
                "securitySchemes": {
                    "bearer": {
                        "type": "http",
                        "scheme": "bearer",
                        "bearerFormat": "JWT",
                        "description": "An access token from /auth/login, /auth/register or"
                        " /auth/refresh",
                    },
                    "api_key": {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "An API key (chat_sk_...) made by an admin with POST"
                        " /api-keys; it acts as that admin, limited to its scopes: an operation"
                        " lists the one it needs",
                    },
                    "token": {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "A token set in the service's settings (for example"
                        " CHAT_INBOUND_EMAIL_TOKEN for inbound mail)",
                    },
                },
            },
        }


def _operation(op: Operation, params: list[dict[str, Any]], refs: Refs) -> dict[str, Any]:
    parameters = list(params)
    if op.query is not None:
        parameters.extend(_query_parameters(op.query))
    spec: dict[str, Any] = {
        "operationId": f"{op.method}_{_slug(op.rule)}",
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": parameters,
        "responses": {str(op.status): _success(op, refs)},
    }
    if op.description:
        spec["description"] = op.description
    if op.role is not None:
        # Which role the route needs, for clients and the docs page (chat/auth/roles.py).
        spec["x-role"] = op.role
        spec["security"] = [{"bearer": []}]
        if op.key_scope is not None:  # OpenAPI 3.1: an http scheme may list role names
            spec["security"].append({"api_key": [op.key_scope]})
    elif op.auth == "token":
        spec["security"] = [{"token": []}]
    if op.raw_body:
        spec["requestBody"] = {
            "required": True,
            "content": {media: {"schema": {"type": "string"}} for media in op.raw_body},
        }
    if op.body is not None:
        spec["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[op.body]}},
        }
    for status in sorted(set(_implied_errors(op, params)) | set(op.errors) | set(_ALWAYS)):
        spec["responses"][str(status)] = {
            "description": _ERROR_TEXT[status],
            "content": {"application/json": {"schema": refs[ErrorReply]}},
        }
    return spec


def _implied_errors(op: Operation, params: list[dict[str, Any]]) -> list[int]:
    implied = []
    if op.auth != "public":
        implied.append(401)
    if op.role is not None:  # a role below the route's, or an API key without the scope
        implied.append(403)
    if op.body is not None:
        implied += [400, 413, 422]
    if op.raw_body:
        implied += [413, 415]
    if op.query is not None:
        implied.append(422)
    if params:
        implied.append(404)
    return implied


def _success(op: Operation, refs: Refs) -> dict[str, Any]:
    if op.reply is None:
        return {"description": "Done, no content"}
    content = {"application/json": {"schema": refs[op.reply]}}
    content.update({media: {"schema": {"type": "string"}} for media in op.text_reply})
    return {"description": "OK", "content": content}


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=SCHEMA_REF)
    required = set(schema.get("required", ()))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": _not_null(prop),
            "description": prop.get("description", ""),
        }
        for name, prop in schema["properties"].items()
    ]


def _not_null(prop: dict[str, Any]) -> dict[str, Any]:
    """An optional query parameter is absent, never null: keep the non-null branch."""
    branches = [b for b in prop.get("anyOf", ()) if b != {"type": "null"}]
    schema = dict(branches[0]) if len(branches) == 1 else dict(prop)
    if prop.get("default") is not None:
        schema["default"] = prop["default"]
    schema.pop("title", None)
    return schema


def _openapi_path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    """`/spaces/<uuid:space_id>` -> `/spaces/{space_id}` and its path parameters."""
    params = []
    for converter, name in _RULE_PART.findall(rule):
        schema: dict[str, Any] = {"type": "string"}
        if converter == "uuid":
            schema["format"] = "uuid"
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return _RULE_PART.sub(lambda m: "{" + m.group(2) + "}", rule), params


def _slug(rule: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", _RULE_PART.sub(lambda m: m.group(2), rule)).strip("_")
