"""Public interface of the identity domain (the only module other packages may import)."""

from tsunagu.identity.core.roles import ROLE_PERMISSIONS, Role, permissions_for
from tsunagu.identity.services import (
    authenticate,
    close_session,
    create_api_token,
    create_staff,
    open_session,
    principal_of,
    resolve_api_token,
    resolve_session,
)

__all__ = [
    "ROLE_PERMISSIONS",
    "Role",
    "authenticate",
    "close_session",
    "create_api_token",
    "create_staff",
    "open_session",
    "permissions_for",
    "principal_of",
    "resolve_api_token",
    "resolve_session",
]
