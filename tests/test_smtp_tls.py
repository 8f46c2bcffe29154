"""SMTP submission over STARTTLS and implicit TLS with login, against aiosmtpd on loopback with a
throwaway self-signed certificate (made with the openssl command)."""

from __future__ import annotations

import shutil
import ssl
import subprocess

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from alerts import smtp
from mail_helpers import SmtpSink, free_port
from monitor.settings import Settings

pytestmark = pytest.mark.skipif(not shutil.which("openssl"), reason="needs the openssl command")
DATA = "Subject: =?utf-8?b?VGjhu60=?=\r\n\r\nThử nghiệm gửi thư.\r\n".encode()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client


def authenticator(logins):
    def check(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.login == b"canhbao" and auth_data.password == b"m\xe1\xba\xadt-kh\xe1\xba\xa9u")
    return check


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_and_login(certificate, security):
    server_ctx, client_ctx = certificate
    sink, logins, port = SmtpSink(), [], free_port()
    options = dict(authenticator=authenticator(logins), auth_require_tls=security == "starttls")
    if security == "starttls":
        controller = Controller(sink, hostname="127.0.0.1", port=port, tls_context=server_ctx, require_starttls=True, **options)
    else:
        controller = Controller(sink, hostname="127.0.0.1", port=port, ssl_context=server_ctx, **options)
    controller.start()
    try:
        settings = Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_security=security, smtp_username="canhbao",
                            smtp_password="mật-khẩu", smtp_timeout_s=5)
        assert smtp.send_message(settings, "canhbao@bhxh.example.vn", ["gd@bhxh.example.vn"], DATA, context=client_ctx) == {}
        wrong = settings.model_copy(update={"smtp_password": "sai", "smtp_timeout_s": 1})
        with pytest.raises(smtp.SmtpError, match="^smtp: cannot connect"):
            smtp.send_message(wrong, "canhbao@bhxh.example.vn", ["gd@bhxh.example.vn"], DATA, context=client_ctx)
        # An untrusted certificate is refused (the default context verifies).
        with pytest.raises(smtp.SmtpError, match="CERTIFICATE_VERIFY_FAILED"):
            smtp.send_message(settings, "canhbao@bhxh.example.vn", ["gd@bhxh.example.vn"], DATA)
    finally:
        controller.stop()
    assert len(sink.received) == 1 and sink.received[0].rcpt_tos == ["gd@bhxh.example.vn"]
    assert "Thử nghiệm gửi thư." in sink.received[0].data.decode()
    assert logins[0] == (b"canhbao", "mật-khẩu".encode())


def test_plain_server_without_starttls_is_refused_when_starttls_is_required():
    sink, port = SmtpSink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_security="starttls", smtp_timeout_s=5)
        with pytest.raises(smtp.SmtpError, match="STARTTLS"):
            smtp.send_message(settings, "a@bhxh.example.vn", ["b@bhxh.example.vn"], DATA)
    finally:
        controller.stop()
    assert sink.received == []
