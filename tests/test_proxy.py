"""okno behind Debian's nginx, configured by the very file docs/deploy/nginx.conf ships.

The test makes a self-signed certificate, starts a fresh okno whose public address is the
proxy's HTTPS one, and starts nginx with the shipped server blocks (only the addresses, the
certificate and the sockets' idle timeout changed, the last to 3 s). Then everything a client
and an operator do goes through the proxy: pages over HTTP/2, the chat's sockets over TLS, an
upload; a socket that pings outlives the idle timeout and one that does not is cut by it; and
the address okno counts is the client's, whatever the client claims in X-Forwarded-For.
The same okno serves /metrics to its scraper only, and /readyz says when its schema is behind.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import asyncpg
import httpx
import pytest
import websockets

from tests.chat_support import Client, Staff
from tests.conftest import ADMIN_PASSWORD, ROOT, ServerProcess, csrf_from, free_port
from tests.fresh_okno import fresh_okno

pytestmark = pytest.mark.timeout(120)

SHIPPED = ROOT / "docs" / "deploy" / "nginx.conf"
IDLE_TIMEOUT = 3  # seconds: the sockets' proxy_read_timeout in this test
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
# The addresses the two sides come from (all of 127.0.0.0/8 is this host's): the proxy
# connects to okno from 127.0.0.1, a client from 127.0.0.5.
CLIENT_ADDRESS = "127.0.0.5"
METRICS_TOKEN = "metrics-token-for-the-proxy-test"


def _require(tool: str | None, what: str) -> str:
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is not installed, and CI needs it (.ci/run installs it)")
        pytest.skip(f"{what} is not installed (apt-get install nginx openssl)")
    return tool


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited: {log.read_text()}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nginx did not listen: {log.read_text()}")


def proxy_config(
    shipped: str, *, okno_port: int, https_port: int, http_port: int, tls: Path
) -> str:
    """The shipped server blocks with this test's addresses, certificate and idle timeout."""
    replaced = {
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{okno_port};",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "/etc/letsencrypt/live/chat.example.ru/fullchain.pem": str(tls / "cert.pem"),
        "/etc/letsencrypt/live/chat.example.ru/privkey.pem": str(tls / "key.pem"),
        "proxy_read_timeout 75s;": f"proxy_read_timeout {IDLE_TIMEOUT}s;",
        "proxy_send_timeout 75s;": f"proxy_send_timeout {IDLE_TIMEOUT}s;",
    }
    config = shipped
    for old, new in replaced.items():
        assert old in config, f"docs/deploy/nginx.conf no longer has {old!r}"
        config = config.replace(old, new)
    # This host may have no IPv6; the test listens on IPv4 loopback only.
    return re.sub(r"^\s*listen \[::\].*$", "", config, flags=re.MULTILINE)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(
        [
            _require(shutil.which("openssl"), "openssl"),
            *("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
            *("-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"),
            *("-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")),
        ],
        check=True,
        capture_output=True,
    )
    return folder


class Proxied(NamedTuple):
    url: str  # nginx's HTTPS address, okno's OKNO_PUBLIC_URL
    http_port: int  # nginx's plain HTTP port (a redirect)
    okno: ServerProcess


@pytest.fixture(scope="module")
def proxied(
    database_url: str, tls: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Proxied]:
    """nginx in front of a fresh okno."""
    nginx = _require(NGINX, "nginx")
    https_port, http_port = free_port(), free_port()
    public = f"https://localhost:{https_port}"
    with fresh_okno(
        database_url,
        OKNO_PUBLIC_URL=public,
        OKNO_TRUSTED_PROXIES="127.0.0.1",
        OKNO_MAX_UPLOAD_BYTES=str(2 * 1024 * 1024),
        OKNO_METRICS_TOKEN=METRICS_TOKEN,
        OKNO_METRICS_ALLOW="127.0.0.1",
        OKNO_LOG_FORMAT="json",
    ) as okno:
        prefix = tmp_path_factory.mktemp("nginx")
        prefix.chmod(0o777)  # nginx's workers run as nobody when the test runs as root
        (prefix / "okno.conf").write_text(
            proxy_config(
                SHIPPED.read_text(),
                okno_port=okno.port,
                https_port=https_port,
                http_port=http_port,
                tls=tls,
            )
        )
        (prefix / "nginx.conf").write_text(
            "daemon off;\n"
            "worker_processes 1;\n"
            f"pid {prefix}/nginx.pid;\n"
            f"error_log {prefix}/error.log warn;\n"
            "events { worker_connections 256; }\n"
            "http {\n"
            "  access_log off;\n"
            + "".join(
                f"  {kind}_temp_path {prefix}/{kind};\n"
                for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
            )
            + f"  include {prefix}/okno.conf;\n"
            "}\n"
        )
        with (prefix / "stderr.log").open("w") as errors:
            process = subprocess.Popen(
                [nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
                stdout=subprocess.DEVNULL,
                stderr=errors,
            )
            try:
                _wait_for_port(https_port, process, prefix / "stderr.log")
                yield Proxied(public, http_port, okno)
            finally:
                process.terminate()
                process.wait(10)


@pytest.fixture
def trust_test_certificate(tls: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx and websockets (through OpenSSL's defaults) trust the test's certificate."""
    monkeypatch.setenv("SSL_CERT_FILE", str(tls / "cert.pem"))


def test_pages_come_over_http2_with_hsts_and_http_is_sent_to_https(
    proxied: Proxied, tls: Path
) -> None:
    proxy = proxied.url
    curl = _require(shutil.which("curl"), "curl")
    answer = subprocess.run(
        [
            curl,
            "-s",
            "--cacert",
            str(tls / "cert.pem"),
            "--http2",
            "-D",
            "-",
            "-o",
            "/dev/null",
            f"{proxy}/me/login",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert answer.startswith("HTTP/2 200"), answer
    assert "strict-transport-security:" in answer.lower(), answer
    plain = httpx.get(f"http://127.0.0.1:{proxied.http_port}/me/login")
    assert plain.status_code == 301
    assert plain.headers["location"].startswith("https://")


async def test_chat_upload_and_operator_go_through_the_proxy(
    proxied: Proxied, trust_test_certificate: None
) -> None:
    proxy = proxied.url
    async with httpx.AsyncClient(base_url=proxy) as http:
        ready = await http.get("/readyz")
        assert ready.json() == {"status": "ok", "database": "ok", "migrations": "applied"}
        page = await http.get("/chat")
        assert page.status_code == 200
        cookies = dict(http.cookies)
        assert "__Host-okno_visitor" in cookies  # Secure cookies: okno knows it is on HTTPS
        uploaded = await http.post(
            "/api/chat/attachments",
            files={"file": ("справка.pdf", b"%PDF-1.4 " + b"x" * 1_500_000, "application/pdf")},
            headers={"x-csrf-token": csrf_from(page.text), "accept": "application/json"},
        )
        assert uploaded.status_code == 201, uploaded.text
        too_big = await http.post(
            "/api/chat/attachments",
            files={"file": ("big.bin", b"x" * (3 * 1024 * 1024), "application/octet-stream")},
            headers={"x-csrf-token": csrf_from(page.text), "accept": "application/json"},
        )
        assert too_big.status_code == 413  # okno's own limit, answered through the proxy

    client = await Client.open(proxy, cookies=cookies)
    operator = await Staff.open(proxy, "admin", ADMIN_PASSWORD)
    try:
        sent = await client.say("через прокси", attachment=uploaded.json()["id"])
        conversation = sent["conversation"]
        history = await operator.open_conversation(conversation)
        assert [m["text"] for m in history][-1:] == ["через прокси"]
        assert history[-1]["attachment"]["name"] == "справка.pdf"
        await operator.say(conversation, "ответ через прокси")
        assert (await client.message(text="ответ через прокси"))["author"]["kind"] == "staff"
    finally:
        await client.close()
        await operator.close()


async def test_a_pinging_socket_outlives_the_idle_timeout_and_a_silent_one_does_not(
    proxied: Proxied, trust_test_certificate: None
) -> None:
    pinging, silent = await Client.open(proxied.url), await Client.open(proxied.url)
    try:

        async def ping_for(seconds: float) -> None:
            # The chat's pages ping every 25 s against nginx's 75 s; here 1 s against 3 s.
            deadline = asyncio.get_running_loop().time() + seconds
            while asyncio.get_running_loop().time() < deadline:
                await pinging.send(type="ping")
                await pinging.until("pong")
                await asyncio.sleep(1)

        await ping_for(2 * IDLE_TIMEOUT)
        assert (await pinging.say("после простоя"))["type"] == "ack"
        await asyncio.sleep(0)  # the silent one has been idle as long as the other pinged
        with pytest.raises(websockets.ConnectionClosed):
            await silent.recv(wait=2)
    finally:
        await pinging.close()
        await silent.close()


async def _failed_sign_in(http: httpx.AsyncClient, claimed: str | None) -> bytes:
    """A wrong password on the staff form, claiming to come from ``claimed``; the hash of the
    address okno held it against (read from its database, to assert)."""
    page = await http.get("/admin/login")
    # Sent by hand: the cookies are Secure (okno is on HTTPS) and a direct request is plain.
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies.jar)
    response = await http.post(
        "/admin/login",
        data={
            "login": f"nobody-{os.urandom(3).hex()}",
            "password": "wrong-password-1",
            "_csrf_token": csrf_from(page.text),
        },
        headers={"cookie": cookie, **({"x-forwarded-for": claimed} if claimed else {})},
    )
    assert response.status_code == 401, response.text
    conn = await asyncpg.connect(http.okno_database)  # type: ignore[attr-defined]
    try:
        return await conn.fetchval(
            "SELECT ip_hash FROM staff_login_failure ORDER BY id DESC LIMIT 1"
        )
    finally:
        await conn.close()


async def test_okno_counts_the_address_the_proxy_saw_never_the_one_a_client_claims(
    proxied: Proxied, trust_test_certificate: None
) -> None:
    def client(address: str, base_url: str) -> httpx.AsyncClient:
        http = httpx.AsyncClient(
            base_url=base_url,
            headers={"accept": "text/html"},
            transport=httpx.AsyncHTTPTransport(local_address=address),
        )
        http.okno_database = proxied.okno.database_url  # type: ignore[attr-defined]
        return http

    async with (
        client(CLIENT_ADDRESS, proxied.url) as via_proxy,
        client(CLIENT_ADDRESS, proxied.okno.url) as direct,
        client("127.0.0.1", proxied.okno.url) as from_the_proxy_host,
    ):
        claimed_through_proxy = await _failed_sign_in(via_proxy, "198.51.100.7")
        other_claim_through_proxy = await _failed_sign_in(via_proxy, "198.51.100.8")
        claimed_directly = await _failed_sign_in(direct, "198.51.100.7")
        unclaimed_directly = await _failed_sign_in(direct, None)
        # The proxy's address is trusted: what it passes is believed.
        passed_by_trusted = await _failed_sign_in(from_the_proxy_host, CLIENT_ADDRESS)
        trusted_itself = await _failed_sign_in(from_the_proxy_host, None)
    # nginx replaced the claims with the address it saw; okno ignored a claim from elsewhere.
    assert claimed_through_proxy == other_claim_through_proxy == unclaimed_directly
    assert claimed_directly == unclaimed_directly == passed_by_trusted
    assert trusted_itself != unclaimed_directly


def _samples(text: str) -> dict[str, float]:
    """Prometheus text lines as {"name{labels}": value}."""
    return {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }


async def test_metrics_count_what_happened_for_the_scraper_only(
    proxied: Proxied, trust_test_certificate: None
) -> None:
    okno = proxied.okno.url
    bearer = {"authorization": f"Bearer {METRICS_TOKEN}"}
    client = await Client.open(proxied.url)
    operator = await Staff.open(proxied.url, "admin", ADMIN_PASSWORD)
    try:
        conversation = (await client.say("сколько нас"))["conversation"]
        await operator.open_conversation(conversation)
        await operator.say(conversation, "посчитано")
        await client.message(text="посчитано")
        async with httpx.AsyncClient(base_url=okno) as scraper:
            answer = await scraper.get("/metrics", headers=bearer)
            assert answer.status_code == 200, answer.text
            assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
            assert (await scraper.get("/metrics")).status_code == 401
            wrong = {"authorization": "Bearer not-the-token-at-all"}
            assert (await scraper.get("/metrics", headers=wrong)).status_code == 401
        async with httpx.AsyncClient(
            base_url=okno, transport=httpx.AsyncHTTPTransport(local_address=CLIENT_ADDRESS)
        ) as elsewhere:  # the right token from an address OKNO_METRICS_ALLOW does not list
            assert (await elsewhere.get("/metrics", headers=bearer)).status_code == 404
        async with httpx.AsyncClient(
            base_url=proxied.url, transport=httpx.AsyncHTTPTransport(local_address=CLIENT_ADDRESS)
        ) as outside:  # through the proxy from outside: nginx's own allow list
            assert (await outside.get("/metrics", headers=bearer)).status_code == 403
    finally:
        await client.close()
        await operator.close()
    got = _samples(answer.text)
    assert got['okno_websockets_open{kind="client"}'] >= 1
    assert got['okno_websockets_open{kind="staff"}'] >= 1
    assert got['okno_websocket_frames_total{direction="in"}'] >= 3
    assert got['okno_websocket_frames_total{direction="out"}'] >= 3
    assert got["okno_messages_delivered_total"] >= 2  # the operator's reply to the client, ...
    assert got["okno_delivery_lag_seconds_count"] >= 2
    assert got["okno_database_up"] == 1
    assert got['okno_db_pool_connections{state="idle"}'] >= 0
    assert got["okno_db_pool_max_connections"] == 10
    assert "okno_queue_conversations" in got
    assert "okno_queue_oldest_wait_seconds" in got
    assert "okno_mailing_deliveries_due" in got
    assert any(name.startswith("okno_job_runs_total{") for name in got)
    for line in (proxied.okno.log.read_text().splitlines())[-5:]:
        if line.startswith("{"):  # okno's own log lines (OKNO_LOG_FORMAT=json)
            assert {"time", "level", "logger", "message"} <= set(json.loads(line))


async def test_readiness_says_when_the_schema_is_behind_the_code(proxied: Proxied) -> None:
    async with httpx.AsyncClient(base_url=proxied.okno.url) as http:
        assert (await http.get("/readyz")).status_code == 200
        owner = await asyncpg.connect(proxied.okno.owner_url)  # type: ignore[attr-defined]
        try:
            # Tampering: the record of the newest migration taken away, as if this code were
            # newer than the schema (an upgrade whose `okno migrate` has not run yet).
            row = await owner.fetchrow(
                "DELETE FROM migration WHERE id = (SELECT max(id) FROM migration)"
                " RETURNING id, name, app_name, ran_on"
            )
            try:
                behind = await http.get("/readyz")
            finally:
                await owner.execute(
                    "INSERT INTO migration (id, name, app_name, ran_on) VALUES ($1, $2, $3, $4)",
                    *row,
                )
        finally:
            await owner.close()
        assert behind.status_code == 503
        assert behind.json() == {"status": "unavailable", "database": "ok", "migrations": "pending"}
        assert (await http.get("/readyz")).status_code == 200


async def test_okno_migrate_runs_beside_the_serving_okno(
    proxied: Proxied, trust_test_certificate: None
) -> None:
    """README «Upgrades», step 2: the running server keeps its sockets and keeps storing."""
    client = await Client.open(proxied.url)
    try:
        assert (await client.say("до миграции"))["type"] == "ack"
        migrate = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "okno.platform.cli", "migrate"),
            env={
                **os.environ,
                "DATABASE_URL": proxied.okno.database_url,  # type: ignore[attr-defined]
                "OKNO_MIGRATION_DATABASE_URL": proxied.okno.owner_url,  # type: ignore[attr-defined]
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
        )

        async def keep_pinging() -> None:  # as the page does, past the test's 3 s idle timeout
            while True:
                await client.send(type="ping")
                await asyncio.sleep(1)

        pinger = asyncio.create_task(keep_pinging())
        try:
            out, err = await asyncio.wait_for(migrate.communicate(), 300)
        finally:
            pinger.cancel()
        assert migrate.returncode == 0, err.decode()
        assert "схема базы данных актуальна" in out.decode()
        assert (await client.say("после миграции"))["type"] == "ack"
    finally:
        await client.close()
    async with httpx.AsyncClient(base_url=proxied.okno.url) as http:
        assert (await http.get("/readyz")).status_code == 200
