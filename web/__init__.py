"""The Flask application: ``create_app(config=None)`` builds one app over one CareLog.

One CareLog (event store, views, registries) per process lives in
``app.extensions["carelog"]``; in the embedded default the views runner runs in a
background thread of this process.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import date, datetime
from typing import Any

from flask import Flask, Response, g, request
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Api

from services.access.policy import Policy
from services.bootstrap import CareLog
from services.config import Config

API_TITLE = "CareLog"
API_VERSION = "1.0.0"


class IsoJSONProvider(DefaultJSONProvider):
    """ISO 8601 times with their zone, never Flask's HTTP-date default."""

    @staticmethod
    def default(o: Any) -> Any:
        if isinstance(o, (datetime, date)):
            return o.isoformat()
        return DefaultJSONProvider.default(o)


def create_app(config: Config | None = None, carelog: CareLog | None = None) -> Flask:
    """Build the app; ``carelog`` lets tests share an instance with their fixtures."""
    from web import auth, hygiene, input_guard, metrics
    from web.context import ViewsNotReadyError, not_ready_response
    from web.errors import refuse_nul_in_queries, register_error_handlers

    app = Flask(__name__)
    app.json_provider_class = IsoJSONProvider
    app.json = IsoJSONProvider(app)
    instance = carelog or CareLog(config)
    if carelog is None:  # a server's worker: its tables, one process at a time
        instance.prepare_schema()
    instance.pack  # noqa: B018 - a malformed rule pack stops start-up here, not at a write
    instance.sso  # noqa: B018 - so does a bad single sign-on setting (nothing is fetched yet)
    app.config.update(
        API_TITLE=API_TITLE,
        API_VERSION=API_VERSION,
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL="/docs/static/",
        SECRET_KEY=instance.config.secret_key or _random_secret(),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        JSON_SORT_KEYS=False,
    )
    app.extensions["carelog"] = instance
    app.extensions["carelog_policy"] = Policy(
        read_record=instance.app.read_record,
        record_access=instance.access_log.record,
    )
    auth.init_app(app)
    refuse_nul_in_queries(app)  # after authentication: a stranger gets a 401 first
    _register_api(app)
    register_error_handlers(app)  # after flask-smorest's, which it replaces
    from web.pages import init_app as init_pages

    init_pages(app)  # its session loader runs before auth's bearer check (web/pages)
    input_guard.init_app(app, instance.config.max_request_bytes)  # size check before all
    app.register_error_handler(ViewsNotReadyError, not_ready_response)
    _request_log(app)
    hygiene.init_app(app)
    metrics.init_app(app, instance)
    if instance.config.run_projections:
        instance.views.start()
    return app


def _register_api(app: Flask) -> None:
    from web import (
        audit,
        care_team,
        conditions,
        dashboard,
        feed,
        interop,
        ops,
        patients,
        plan,
        trials,
    )
    from web.clinical import BLUEPRINTS
    from web.genomics import blp as genomics_blp
    from web.openapi_links import add_links
    from web.schemas.common import no_nul_property

    api = Api(
        app,
        spec_kwargs={
            "info": {
                "description": "CareLog's public HTTP contract. Bearer tokens come from "
                "`carelog users add` or `carelog demo`; with single sign-on configured, an "
                "access token (a JWT) from the organisation's OpenID Connect provider is "
                'accepted too (README, "Single sign-on").'
            },
            "security": [{"bearerAuth": []}],
        },
    )
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.ma_plugin.converter.add_attribute_function(no_nul_property)  # before any schema
    for blueprint in (
        patients.blp,
        care_team.blp,
        *BLUEPRINTS,
        conditions.blp,
        genomics_blp,
        plan.blp,
        trials.blp,
        audit.blp,
        dashboard.blp,
        feed.blp,
        interop.blp,
        ops.blp,
    ):
        api.register_blueprint(blueprint)
    add_links(api.spec._paths)  # apispec keeps the paths there; the links join them
    app.register_blueprint(ops.assets)
    app.extensions["carelog_api"] = api


def _random_secret() -> str:
    import secrets

    return secrets.token_hex(32)


def _request_log(app: Flask) -> None:
    """One JSON line per request, with its request id (never bodies: they hold PHI)."""
    logger = logging.getLogger("carelog.access")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False

    def _start() -> None:
        from services.access.request_scope import CLIENT_REQUEST_ID
        from web.context import client_request_id

        g.started = time.perf_counter()
        CLIENT_REQUEST_ID.set(client_request_id())  # every request: none left from the last

    # First of all: the clock starts, and the client's id is set before anything is logged.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)

    @app.after_request
    def _log(response: Response) -> Response:
        from web.context import client_request_id, request_id

        response.headers["X-Request-ID"] = request_id()
        actor = getattr(g, "actor", None)
        logger.info(
            json.dumps(
                {
                    "request_id": request_id(),
                    "client_request_id": client_request_id(),
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "ms": round(
                        (time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 2
                    ),
                    "actor": actor.id if actor else None,
                    "remote": request.remote_addr,
                }
            )
        )
        return response
