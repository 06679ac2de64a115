"""Errors on the pages are pages: the same status codes as the API, in words a clinician
reads, never a problem+json body or a stack trace."""

from __future__ import annotations

from flask import Response, g, make_response, render_template

from domain.errors import CareLogError, NotPermittedError
from web.context import ViewsNotReadyError
from web.errors import STATUS_OF
from web.pages.blueprint import bp

TITLES = {
    400: "The request could not be read",
    403: "Not allowed",
    404: "Not found",
    410: "Record erased",
    412: "The record has changed",
    422: "Not accepted",
    503: "Not ready yet",
}


def error_page(status: int, title: str, message: str) -> Response:
    response = make_response(
        render_template(
            "pages/error.html", status=status, title=title, message=message, who=g.get("actor")
        ),
        status,
    )
    if status == 503:
        response.headers["Retry-After"] = "1"
    return response


@bp.errorhandler(CareLogError)
def _domain_error(exc: CareLogError) -> Response:
    if isinstance(exc, ViewsNotReadyError):
        status = 503
    else:
        status = next(s for cls, s, _ in STATUS_OF if isinstance(exc, cls))
    title = (
        "You may not see or do this"
        if isinstance(exc, NotPermittedError)
        else TITLES.get(status, "Not accepted")
    )
    return error_page(status, title, exc.message)
