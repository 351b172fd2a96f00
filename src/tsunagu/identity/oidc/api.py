"""Public interface of the OpenID Connect provider (for the shell: the demo registers its relying parties)."""

from tsunagu.identity.oidc.services import ClientView, Registered, get_client, list_clients, register_client

__all__ = ["ClientView", "Registered", "get_client", "list_clients", "register_client"]
