"""One-time keys of the recording forms: a form sent twice records once.

Every rendered form carries a fresh key (a hidden ``form_key``), signed with this sign-in's
CSRF secret, so it is good in this session only. A posted key goes through the API's
``Idempotency-Key`` store (services/writing/idempotency.py), per staff member, exactly like an API
retry: the first post claims it and stores what it recorded; a second post of the same
form (a double click, back and send again, a resent POST) records nothing and shows that
first outcome again, its alerts included.

A key signed for another session is refused, the form coming back with what was entered
and a fresh key. Treating it as new could record an entry twice (it may be the key of a
form already saved in that other sign-in); refusing loses nothing, since saving again from
the form shown records it. A form without a key (a page rendered before keys existed) is
recorded as before.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

from web.pages.session import csrf_token

FORM_KEY_FIELD = "form_key"
STORE_PREFIX = "page-form:"
"""Keys from forms are stored apart from keys an API client chose."""


class ForeignFormKeyError(Exception):
    """A posted form key was not issued to this session."""


def _signature(nonce: str) -> str:
    secret = csrf_token().encode()
    return hmac.new(secret, b"form-key:" + nonce.encode(), hashlib.sha256).hexdigest()[:32]


def new_form_key() -> str:
    """A fresh key for one rendered form, bound to this session."""
    nonce = secrets.token_urlsafe(16)
    return f"{nonce}.{_signature(nonce)}"


def store_key(given: str | None) -> str | None:
    """The idempotency key of a posted form key (None: the form carried none)."""
    if not given:
        return None
    nonce, _, signature = given.partition(".")
    if not nonce or len(given) > 200 or not hmac.compare_digest(signature, _signature(nonce)):
        raise ForeignFormKeyError(given)
    return STORE_PREFIX + nonce


def body_of(values: dict[str, Any]) -> bytes:
    """What was entered, in a stable order: the same form sent again with other entries
    is a different request (the store refuses its key)."""
    return json.dumps(values, sort_keys=True).encode()
