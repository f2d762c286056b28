"""The package as users get it: ``python -m build`` makes the sdist and the wheel, the wheel goes into a fresh
venv (nothing else installed there: the SDK needs only the standard library), and the README's quick start
runs verbatim in it against the hub, its run delivered by the flush at exit."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

from conftest import Hub

PACKAGE = Path(__file__).resolve().parents[1]


def quick_start() -> str:
    """The first ``python`` code block under the README's "Quick start" heading."""
    readme = (PACKAGE / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1]
    m = re.search(r"```python\n(.*?)```", section, re.S)
    assert m, "the README has no python block under Quick start"
    return m.group(1)


def test_the_quick_start_is_five_lines() -> None:
    lines = [x for x in quick_start().splitlines() if x.strip()]
    assert len(lines) == 5, lines


def test_the_built_wheel_installs_in_a_fresh_venv_and_runs_the_quick_start(hub: Hub, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    # --no-isolation: the build backend (hatchling) comes from the dev venv, so no download is needed here.
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(PACKAGE)],
        check=True,
        capture_output=True,
    )
    wheel = next(dist.glob("agentops_hub-*-py3-none-any.whl"))
    sdist = next(dist.glob("agentops_hub-*.tar.gz"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "agentops_hub/py.typed" in names
    assert "agentops_hub/__init__.py" in names
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "Requires-Python: >=3.9" in metadata
    assert not [x for x in metadata.splitlines() if x.startswith("Requires-Dist:") and "extra ==" not in x]
    with tarfile.open(sdist) as t:
        assert any(n.endswith("src/agentops_hub/_telemetry.py") for n in t.getnames())

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(py), "install", "--no-index", "--quiet", str(wheel)],
        check=True,
        capture_output=True,
    )
    where = subprocess.run(
        [str(py), "-c", "import agentops_hub, sys; print(agentops_hub.__file__); print(sys.prefix)"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout
    assert str(venv) in where.splitlines()[0]  # imported from the fresh venv, not from the repository

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTOPS_", "PYTHON"))}
    env.update(AGENTOPS_HUB_URL=hub.url, AGENTOPS_API_KEY=hub.ingest_key)
    script = tmp_path / "quick_start.py"
    script.write_text(quick_start())
    out = subprocess.run([str(py), str(script)], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "refunded A-1"

    # The process has exited: its run reached the hub through the flush at exit.
    status, body = hub.api("GET", "/v1/runs?agent=SupportBot")
    assert status == 200, body
    runs = [
        r
        for r in body["data"]
        if r["status"] == "completed" and (r.get("metadata") or {}).get("name") == "refund-ticket"
    ]
    assert runs, body["data"]
    d = hub.wait_run(runs[0]["id"])
    types = [e["type"] for e in d["events"]]
    assert types.count("tool_called") == 1
    assert types.count("external_action") == 1
    assert len(d["decisions"]) == 1


def behaviour_rows(readme: Path) -> list[str]:
    """The rows of a README's behaviour table (the one whose header says TypeScript · Python), spaces squeezed."""
    text = readme.read_text()
    start = text.index("| situation")
    rows = []
    for line in text[start:].splitlines():
        if not line.startswith("|"):
            break
        rows.append(" ".join(line.split()))
    return [r for r in rows if not set(r) <= set("|- ")]


def test_the_behaviour_table_is_the_same_in_both_sdk_readmes() -> None:
    python = behaviour_rows(PACKAGE / "README.md")
    typescript = behaviour_rows(PACKAGE.parent / "sdk" / "README.md")
    assert len(python) > 10
    assert python == typescript
