"""A real hub for the SDK's tests, started the way users start it.

``node --import tsx packages/server/src/main.ts start`` from the repository root, on a free port, with a
temporary data dir (SQLite) and the headless init variables: an owner (a person, who approves), an org and
its ``full`` key (the test's own setup calls). Agents get an ``ingest`` key, as in production. The hub can
be stopped and started again on the same port and data (the retry test does).

``HUB_TEST_DB=postgres`` with ``TEST_DATABASE_URL`` runs the hub on a fresh PostgreSQL database instead.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Optional, Tuple, TypeVar

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
OWNER_EMAIL = "owner@sdk-python.test"
OWNER_PASSWORD = "sdk-python-owner-pass"
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


PG_BASE = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")


def _pg(statement: str) -> None:
    """One SQL statement on the PostgreSQL pass's database, with the server's own `pg` client."""
    script = (
        "const pg=require('pg');const c=new pg.Client({connectionString:process.argv[1]});"
        "c.connect().then(()=>c.query(process.argv[2])).then(()=>c.end())"
        ".catch(e=>{console.error(e.message);process.exit(1)})"
    )
    subprocess.run(
        ["node", "-e", script, PG_BASE, statement], cwd=REPO_ROOT / "packages/server", check=True, capture_output=True
    )


def _pg_database() -> Optional[str]:
    """A fresh PostgreSQL database when the pass asks for PostgreSQL (HUB_TEST_DB=postgres), else None."""
    if os.environ.get("HUB_TEST_DB") != "postgres":
        return None
    name = f"sdk_python_{secrets.token_hex(4)}"
    _pg(f"create database {name}")
    return PG_BASE.rsplit("/", 1)[0] + "/" + name


class Hub:
    """One hub process; ``stop()`` and ``start()`` keep its port and data."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.origin = f"http://localhost:{self.port}"  # HUB_PUBLIC_URL's default: the console's trusted origin
        self.data_dir = tempfile.mkdtemp(prefix="agentops-sdk-python-")
        self.admin_key = "ahk_" + secrets.token_hex(20)
        self.database_url = _pg_database()
        self.proc: Optional[subprocess.Popen[bytes]] = None
        self.log_path = Path(self.data_dir) / "hub.log"
        self.ingest_key = ""
        self._cookie: Optional[str] = None

    def start(self) -> None:
        env = {
            **os.environ,
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
            "HUB_DATA_DIR": self.data_dir,
            "HUB_INIT_ORG_NAME": "SDK Python",
            "HUB_INIT_USER_EMAIL": OWNER_EMAIL,
            "HUB_INIT_USER_PASSWORD": OWNER_PASSWORD,
            "HUB_INIT_API_KEY": self.admin_key,
            "HUB_LOG_LEVEL": "warn",
        }
        env.pop("DATABASE_URL", None)
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        log = open(self.log_path, "ab")  # noqa: SIM115 - the hub writes to it until it stops
        self.proc = subprocess.Popen(
            ["node", "--import", "tsx", "packages/server/src/main.ts", "start"],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the hub exited ({self.proc.returncode}):\n{self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the hub did not answer /healthz in 90 s:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    # ── the test's own calls (with the `full` key unless told otherwise) ─────────────────────────

    def api(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        key: Optional[str] = None,
        session: bool = False,
    ) -> Tuple[int, Any]:
        headers = {"accept": "application/json"}
        if session:
            headers["cookie"] = self.session_cookie()
            headers["origin"] = self.origin
        else:
            headers["authorization"] = f"Bearer {key or self.admin_key}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["content-type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                raw, status = r.read(), r.status
        except urllib.error.HTTPError as e:
            raw, status = e.read(), e.code
        return status, (json.loads(raw) if raw else None)

    def session_cookie(self) -> str:
        """Signs in as the owner (a person) once: the session cookie the console would hold."""
        if self._cookie is None:
            req = urllib.request.Request(
                self.url + "/api/auth/sign-in/email",
                data=json.dumps({"email": OWNER_EMAIL, "password": OWNER_PASSWORD}).encode(),
                method="POST",
                headers={"content-type": "application/json", "origin": self.origin},
            )
            with urllib.request.urlopen(req, timeout=30) as r:
                cookies = r.headers.get_all("set-cookie") or []
            self._cookie = "; ".join(c.split(";", 1)[0] for c in cookies)
            assert "session_token" in self._cookie, cookies
        return self._cookie

    def run_detail(self, run_id: str) -> Optional[Dict[str, Any]]:
        status, body = self.api("GET", f"/v1/runs/{run_id}")
        return body if status == 200 else None

    def wait_run(self, run_id: str, status: str = "completed") -> Dict[str, Any]:
        """The run's detail once the hub has it with this status."""
        return eventually(lambda: ((r := self.run_detail(run_id)) is not None and r["status"] == status and r) or None)

    def policy(self, name: str, when: Any, then: str, **extra: Any) -> str:
        status, body = self.api(
            "POST", "/v1/policies", {"name": name, "status": "active", "rule": {"when": when, "then": then, **extra}}
        )
        assert status == 201, body
        return str(body["id"])


def eventually(fn: Callable[[], Optional[T]], timeout: float = 15.0) -> T:
    """Polls ``fn`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            v = fn()
            if v:
                return v
        except Exception as e:
            last = e
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in {timeout} s (last error: {last!r})")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def hub() -> Iterator[Hub]:
    h = Hub()
    h.start()
    status, body = h.api("POST", "/v1/api-keys", {"name": "agent", "scopes": ["ingest"]})
    assert status == 201, body
    h.ingest_key = body["key"]
    try:
        yield h
    finally:
        h.stop()
        shutil.rmtree(h.data_dir, ignore_errors=True)
        if h.database_url:
            _pg(f"drop database if exists {h.database_url.rsplit('/', 1)[1]}")


_n = 0


@pytest.fixture
def agent_name(request: pytest.FixtureRequest) -> str:
    """A fresh agent name per test, so policies and pauses of one test touch no other."""
    global _n
    _n += 1
    return f"Py{request.node.name.split('[')[0].replace('test_', '').title().replace('_', '')}{_n}"


# The scripted OpenAI-compatible model of the integration tests (tests/scripted_model.py).
from scripted_model import model  # noqa: E402, F401


def settled_run(hub: Hub, run_id: str, status: Optional[str] = None) -> Dict[str, Any]:
    """A run's detail once it has ended (with ``status`` when given) and the hub has priced its model calls."""

    def done() -> Optional[Dict[str, Any]]:
        r = hub.run_detail(run_id)
        if r is None or r["status"] == "running" or (status is not None and r["status"] != status):
            return None
        calls = [e for e in r["events"] if e["type"] == "llm_call"]
        return r if all(e.get("cost_usd") is not None for e in calls) else None

    return eventually(done)


def events_of(run: Dict[str, Any], type_: str) -> list[Dict[str, Any]]:
    """The payloads of a run's events of one type, in order, each with the event's ``cost_usd``."""
    return [{**e["payload"], "cost_usd": e.get("cost_usd")} for e in run["events"] if e["type"] == type_]
