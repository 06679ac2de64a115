"""Single sign-on through an OpenID Connect provider (README, "Deploying": "Single sign-on").

``SingleSignOn`` (services/access/oidc/sign_on.py) is the one entry point; the web layer asks it
to check a bearer JWT, to start and complete a page sign-in and to re-confirm a page
session.
"""

from services.access.oidc.identities import AccessDenied, NotSignedIn
from services.access.oidc.sign_on import SignInFailed, SingleSignOn
from services.access.oidc.tokens import TokenError, looks_like_jwt

__all__ = [
    "AccessDenied",
    "NotSignedIn",
    "SignInFailed",
    "SingleSignOn",
    "TokenError",
    "looks_like_jwt",
]
