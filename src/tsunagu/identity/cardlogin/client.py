"""A non-browser card-login client: it talks ``tsunagu-card-login-v1`` over HTTP to a server and asks a
:class:`~tsunagu.identity.cards.chip.CardChip` to sign. ``tsunagu card login`` uses it with the software chip of a
data directory (the demo's cards); a hardware reader would pass its own chip."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tsunagu.identity.cards.chip import CardChip
from tsunagu.identity.core.cardlogin import PROTOCOL, b64encode, to_be_signed
from tsunagu.identity.core.pins import PinSlot

TIMEOUT = 15


class ClientError(Exception):
    """The server refused, or the exchange failed; ``code`` is the problem type's last part when there is one."""

    def __init__(self, message: str, code: str = "error", status: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


@dataclass(frozen=True)
class ClientLogin:
    display_name: str
    session: str
    idle_minutes: int
    absolute_minutes: int


def _post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    if not url.startswith(("http://", "https://")):
        raise ClientError("The server URL must start with http:// or https://.")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 - scheme checked
            data: dict[str, Any] = json.loads(response.read())
            return data
    except urllib.error.HTTPError as exc:
        try:
            problem = json.loads(exc.read())
        except ValueError:
            problem = {}
        code = str(problem.get("type", "")).rsplit("/", 1)[-1] or "http-error"
        raise ClientError(str(problem.get("detail") or exc.reason), code, exc.code) from None
    except (urllib.error.URLError, TimeoutError, ValueError) as exc:
        raise ClientError(f"Cannot reach {url}: {exc}") from None


def login(
    server: str, chip: CardChip, pin: str, commit_chip: Callable[[], None] = lambda: None
) -> ClientLogin:
    """Run the protocol. ``commit_chip`` is called after the chip signed or refused the PIN, so the chip's failure
    counter is kept whatever happens next (a hardware chip keeps it by itself)."""
    base = server.rstrip("/")
    challenge = _post(f"{base}/api/v1/card-login/challenges", {})
    if challenge.get("protocol") != PROTOCOL:
        raise ClientError(f"The server does not speak {PROTOCOL}.")
    if challenge.get("audience") != base:
        # A server that names another audience may be relaying our signature elsewhere: refuse to sign.
        raise ClientError(
            f"The server calls itself {challenge.get('audience')!r}, not {base!r}; not signing."
        )
    message = to_be_signed(base, str(challenge["challenge_id"]), str(challenge["nonce"]))
    try:
        signature = chip.sign(PinSlot.AUTHENTICATION, pin, message)
    finally:
        commit_chip()
    answer = _post(
        f"{base}/api/v1/card-login/sessions",
        {
            "challenge_id": challenge["challenge_id"],
            "certificate": b64encode(chip.read_certificate(PinSlot.AUTHENTICATION)),
            "signature": b64encode(signature),
        },
    )
    return ClientLogin(
        str(answer["display_name"]),
        str(answer["session"]),
        int(answer["idle_minutes"]),
        int(answer["absolute_minutes"]),
    )
