"""What the HTTP edges of card login share: the app's challenge key, derived once from its master secret."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request

from tsunagu.identity.cardlogin.services import ChallengeKey


def challenge_key_cache() -> Callable[[Request], ChallengeKey]:
    """The app's challenge key, derived on first use (the master secret may be read from a file)."""
    made: list[ChallengeKey] = []

    def key_of(request: Request) -> ChallengeKey:
        if not made:
            made.append(ChallengeKey(request.app.state.ctx.settings.master_secret()))
        return made[0]

    return key_of
