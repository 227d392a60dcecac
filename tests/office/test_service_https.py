"""Office loads add-in pages only over HTTPS (localhost aside): plain HTTP to another host
is refused saying why; a trusted reverse proxy's X-Forwarded-Proto counts; and
``crm-bridge serve --ssl-certfile --ssl-keyfile`` serves the manifest over TLS."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bridge.server import free_port
from tests.office.service_env import error_of, office_bridge

REPO = Path(__file__).resolve().parents[2]
PAGES = ("/office/manifest.xml", "/office/api/config", "/office/static/icons/crm-16.png")


@pytest.mark.parametrize("path", PAGES)
def test_plain_http_to_another_host_is_refused_saying_why(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    with office_bridge(tmp_path, monkeypatch) as bridge:
        assert httpx.get(bridge.url + path).status_code == 200  # 127.0.0.1: local
        assert httpx.get(bridge.url + path, headers={"Host": "localhost:1"}).status_code \
            == 200
        r = httpx.get(bridge.url + path, headers={"Host": "crm.example.com"})
        assert r.status_code == 403
        err = error_of(r)
        assert err["code"] == "OFFICE_HTTPS_REQUIRED"
        assert "HTTPS" in err["message_en"] and "crm.example.com" in err["message_en"]
        assert "HTTPS" in err["message_zh"] and "crm.example.com" in err["message_zh"]
        # the API beside it is the bridge's business, not refused
        assert httpx.get(bridge.url + "/api/v1/health",
                         headers={"Host": "crm.example.com"}).status_code == 200


def test_a_proxy_saying_https_counts_only_when_trusted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    proxied = {"Host": "crm.example.com", "X-Forwarded-Proto": "https"}
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
    with office_bridge(tmp_path / "a", monkeypatch) as bridge:
        r = httpx.get(bridge.url + "/office/manifest.xml", headers=proxied)
        assert r.status_code == 403, "an untrusted X-Forwarded-Proto is ignored"
    with office_bridge(tmp_path / "b", monkeypatch,
                       CRM_FORWARDED_ALLOW_IPS="127.0.0.1") as bridge:
        r = httpx.get(bridge.url + "/office/manifest.xml", headers=proxied)
        assert r.status_code == 200
        assert "https://crm.example.com/office/taskpane.html" in r.text  # as the user sees it
        plain = {"Host": "crm.example.com", "X-Forwarded-Proto": "http"}
        assert httpx.get(bridge.url + "/office/manifest.xml", headers=plain).status_code \
            == 403


def test_a_plain_http_public_url_gets_no_manifest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with office_bridge(tmp_path, monkeypatch,
                       CRM_PUBLIC_URL="http://crm.example.com") as bridge:
        r = httpx.get(bridge.url + "/office/manifest.xml")
        assert r.status_code == 403 and error_of(r)["code"] == "OFFICE_HTTPS_REQUIRED"


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1, made now, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _trust(cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=cert)


def _wait(url: str, cert: Path, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"crm-bridge serve exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url + "/api/v1/health", verify=_trust(cert), timeout=2).is_success:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"crm-bridge serve did not answer:\n{log.read_text()[-3000:]}")


def test_crm_bridge_serve_passes_tls_to_uvicorn(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    port = free_port()
    public = f"https://localhost:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update(CRM_AUDIT_KEY="k" * 40, CRM_OFFICE_SESSIONS=str(tmp_path / "sessions"),
               PYTHONPATH=str(REPO))
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(  # the real CLI, as an admin runs it
            [sys.executable, "-m", "bridge.cli", "serve", "--db",
             f"sqlite:///{tmp_path / 'crm.db'}", "--port", str(port), "--ssl-certfile",
             str(cert), "--ssl-keyfile", str(key), "--public-url", public],
            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path)
        try:
            _wait(f"https://127.0.0.1:{port}", cert, proc, log)
            r = httpx.get(f"{public}/office/manifest.xml", verify=_trust(cert))
            assert r.status_code == 200 and f"{public}/office/taskpane.html" in r.text
            with pytest.raises(httpx.ConnectError):  # verified: an unknown CA is refused
                httpx.get(f"{public}/office/manifest.xml")
        finally:
            proc.terminate()
            proc.wait(30)


def test_serve_wants_both_tls_files(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from bridge.cli import app

    cert, _ = _self_signed(tmp_path)
    result = CliRunner().invoke(app, ["serve", "--ssl-certfile", str(cert)])
    assert result.exit_code == 2 and "go together" in result.output
