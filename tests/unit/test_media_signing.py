"""Signed rendition URLs: valid for exactly one tenant, image, rendition and expiry."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from warehouse.media.signing import ROUND_SECONDS, SignatureProblem, UrlSigner

NOW = 1_800_000_010.0  # not on a rounding boundary
SIGNER = UrlSigner("a-secret-key-long-enough-for-tests-0123", ttl_seconds=3600)


def params(url: str) -> tuple[str, str]:
    query = parse_qs(urlsplit(url).query)
    return query["expires"][0], query["signature"][0]


def test_a_signed_url_verifies_and_says_how_long_it_lasts():
    signed = SIGNER.sign(7, "abc", "thumbnail", now=NOW)
    assert urlsplit(signed.url).path == "/api/v1/media/7/images/abc/thumbnail"
    remaining = SIGNER.verify(7, "abc", "thumbnail", *params(signed.url), now=NOW)
    assert 3600 <= remaining < 3600 + ROUND_SECONDS


def test_urls_stay_the_same_for_a_while_so_browsers_can_cache_them():
    assert (
        SIGNER.sign(7, "abc", "large", now=NOW).url
        == SIGNER.sign(7, "abc", "large", now=NOW + 1).url
    )


@pytest.mark.parametrize(
    ("tenant", "image", "rendition"),
    [
        (8, "abc", "thumbnail"),  # another tenant's path
        (7, "abd", "thumbnail"),  # another image
        (7, "abc", "original"),  # another rendition
    ],
)
def test_a_signature_does_not_move_to_another_path(tenant, image, rendition):
    expires, signature = params(SIGNER.sign(7, "abc", "thumbnail", now=NOW).url)
    with pytest.raises(SignatureProblem, match="does not match"):
        SIGNER.verify(tenant, image, rendition, expires, signature, now=NOW)


def test_a_longer_expiry_cannot_be_written_in():
    expires, signature = params(SIGNER.sign(7, "abc", "thumbnail", now=NOW).url)
    with pytest.raises(SignatureProblem, match="does not match"):
        SIGNER.verify(7, "abc", "thumbnail", str(int(expires) + 86400), signature, now=NOW)


def test_an_expired_url_is_refused():
    expires, signature = params(SIGNER.sign(7, "abc", "thumbnail", now=NOW).url)
    with pytest.raises(SignatureProblem, match="expired"):
        SIGNER.verify(7, "abc", "thumbnail", expires, signature, now=int(expires) + 1)


def test_another_secret_does_not_verify():
    expires, signature = params(SIGNER.sign(7, "abc", "thumbnail", now=NOW).url)
    other = UrlSigner("another-secret-key-long-enough-for-tests", ttl_seconds=3600)
    with pytest.raises(SignatureProblem):
        other.verify(7, "abc", "thumbnail", expires, signature, now=NOW)


@pytest.mark.parametrize(
    ("expires", "signature"),
    [(None, None), ("", "ab"), ("soon", "ab"), ("123", "é"), ("١٢٣", "ab")],
)
def test_malformed_parameters_are_refused(expires, signature):
    with pytest.raises(SignatureProblem):
        SIGNER.verify(7, "abc", "thumbnail", expires, signature, now=NOW)
