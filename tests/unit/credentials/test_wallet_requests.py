"""The command-line wallet's reading of a request reference: which links it accepts, where it fetches the request,
and that it answers only to the site the request came from."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsunagu.credentials import wallet

IDS = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=43
)


@given(
    request_id=IDS,
    page=st.sampled_from(["/my/wallet/present/", "/verify/presentation/", "/api/v1/presentations/requests/"]),
)
def test_every_link_of_a_request_leads_to_its_api_url(request_id: str, page: str) -> None:
    url = wallet.request_url(f"https://city.example.jp{page}{request_id}")
    assert url == f"https://city.example.jp/api/v1/presentations/requests/{request_id}"


@pytest.mark.parametrize(
    "reference",
    ["", "city.example.jp/my/wallet/present/abc", "https://city.example.jp/my/wallet", "https://x/other/abc"],
)
def test_other_references_are_refused(reference: str) -> None:
    with pytest.raises(wallet.WalletError):
        wallet.request_url(reference)


def test_the_answer_goes_back_to_the_site_of_the_request() -> None:
    wallet._same_origin(
        "https://city.example.jp/my/wallet/present/abc", "https://city.example.jp/api/v1/presentations/abc"
    )
    with pytest.raises(wallet.WalletError, match="another site"):
        wallet._same_origin("https://city.example.jp/my/wallet/present/abc", "https://evil.example/collect")
    with pytest.raises(wallet.WalletError, match="another site"):
        wallet._same_origin(
            "https://city.example.jp/my/wallet/present/abc", "http://city.example.jp/api/v1/presentations/abc"
        )
