"""Forwarded headers are a proxy's word: without NUM_PROXIES a client cannot claim HTTPS with X-Forwarded-Proto."""

import importlib

import pytest

import salesflow.settings


@pytest.mark.parametrize(("proxies", "header"), [("0", None), ("1", ("HTTP_X_FORWARDED_PROTO", "https"))])
def test_x_forwarded_proto_is_trusted_only_behind_a_proxy(monkeypatch, proxies, header):
    monkeypatch.setenv("NUM_PROXIES", proxies)
    try:
        reloaded = importlib.reload(salesflow.settings)
        seen = (reloaded.NUM_PROXIES, reloaded.SECURE_PROXY_SSL_HEADER)
        assert seen == (int(proxies), header)
    finally:
        monkeypatch.delenv("NUM_PROXIES")
        importlib.reload(salesflow.settings)


def test_a_claimed_https_is_still_redirected_without_a_proxy(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = None  # NUM_PROXIES = 0

    response = client.get("/login/", headers={"X-Forwarded-Proto": "https"})

    assert (response.status_code, response["Location"]) == (301, "https://testserver/login/")
