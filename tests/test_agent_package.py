"""The desk agent as a desk computer gets it: a fresh virtualenv, no Home Assistant.

The package is built from a copy of exactly what the repository's pyproject.toml
packages (the agent and the integration's vision folder), so the test also proves
that the agent needs nothing else of the repository. pip reuses its cache; numpy
and PyAV come as wheels.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
import shutil
import subprocess
import sys

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "tests" / "data" / "one-by-one-person-detection.mp4"
# A desk computer's Python: not Home Assistant's 3.13. SMART_PLAY_AGENT_PYTHON overrides.
CANDIDATES = [
    os.environ.get("SMART_PLAY_AGENT_PYTHON", ""),
    "/root/.pyenv/versions/3.11.7/bin/python",
    shutil.which("python3.11") or "",
    shutil.which("python3.12") or "",
]
PY310 = "/root/.pyenv/versions/3.10.13/bin/python"

pytestmark = pytest.mark.slow


def _desk_python() -> str | None:
    return next((c for c in CANDIDATES if c and Path(c).exists()), None)


def _copy_sources(target: Path) -> Path:
    """Copy what the agent distribution is built from (nothing else)."""
    (target / "custom_components" / "smart_play").mkdir(parents=True)
    shutil.copy(ROOT / "pyproject.toml", target)
    shutil.copy(ROOT / "README.md", target)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "agent", target / "agent", ignore=ignore)
    shutil.copytree(
        ROOT / "custom_components" / "smart_play" / "vision",
        target / "custom_components" / "smart_play" / "vision",
        ignore=ignore,
    )
    return target


@pytest.fixture(scope="module")
def agent_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv with the agent installed by ``pip install <path>``."""
    python = _desk_python()
    if python is None:
        pytest.skip("no Python 3.11/3.12 interpreter for a desk-computer virtualenv")
    base = tmp_path_factory.mktemp("agent")
    src = _copy_sources(base / "src")
    venv = base / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(src)],
        check=True,
        timeout=600,
    )
    return venv


def _run(venv: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / args[0]), *args[1:]],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=venv,  # not the repository: nothing may come from there
    )


def test_installs_without_home_assistant(agent_venv: Path) -> None:
    """The virtualenv has the agent, numpy and PyAV, and no Home Assistant."""
    result = _run(agent_venv, "python", "-c", "import homeassistant")
    assert result.returncode != 0
    assert "ModuleNotFoundError" in result.stderr
    result = _run(agent_venv, "python", "-m", "smart_play_agent", "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("smart-play-agent ")


def test_help_imports_neither_numpy_nor_pyav(agent_venv: Path) -> None:
    """``--help`` answers from the standard library alone (it starts at once)."""
    result = _run(agent_venv, "smart-play-agent", "--help")
    assert result.returncode == 0, result.stderr
    assert "--url" in result.stdout
    assert "--list-cameras" in result.stdout
    check = (
        "import sys\n"
        "from smart_play_agent.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'numpy', 'av', 'cv2', 'homeassistant'})\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    result = _run(agent_venv, "python", "-c", check)
    assert "HEAVY []" in result.stderr, result.stderr


def test_list_cameras_answers(agent_venv: Path) -> None:
    """``--list-cameras`` lists the V4L2 devices (this machine has none: it says so)."""
    result = _run(agent_venv, "smart-play-agent", "--list-cameras")
    devices = sorted(Path("/dev").glob("video*"))
    if devices:
        assert result.returncode == 0, result.stderr
        assert str(devices[0]) in result.stdout
    else:
        assert result.returncode == 1
        assert "no cameras found" in result.stderr


def test_wrong_address_is_said_plainly(agent_venv: Path) -> None:
    """An address where no Home Assistant answers: a clear message, and it keeps trying."""
    proc = subprocess.Popen(
        [
            str(agent_venv / "bin" / "smart-play-agent"),
            "--url",
            "http://127.0.0.1:9",
            "--key",
            "k",
            str(CLIP),
            "--loop",
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        cwd=agent_venv,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert "cannot reach Home Assistant at http://127.0.0.1:9" in line, line
        assert proc.poll() is None  # still running, retrying
    finally:
        proc.terminate()
        proc.wait(10)


def test_local_run_prints_what_the_integration_cli_prints(agent_venv: Path) -> None:
    """Without Home Assistant the agent analyses the clip and prints the same JSON lines."""
    agent = _run(agent_venv, "smart-play-agent", str(CLIP), "--json", "--delay", "2", timeout=300)
    assert agent.returncode == 0, agent.stderr
    # The agent's virtualenv has no OpenCV: compare with the integration's CLI on the
    # numpy-only path too (same engine configuration on both sides).
    integration = subprocess.run(
        [
            sys.executable,
            "-m",
            "custom_components.smart_play.vision",
            str(CLIP),
            "--json",
            "--delay",
            "2",
            "--no-opencv",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        cwd=ROOT,
    )
    lines = agent.stdout.splitlines()
    assert lines == integration.stdout.splitlines()
    states = [json.loads(line)["state"] for line in lines]
    assert "occupied" in states
    assert "empty" in states


def test_vision_and_agent_compile_on_python_310() -> None:
    """The shared code has no 3.11+ syntax (desk computers may have Python 3.10)."""
    if not Path(PY310).exists():
        pytest.skip("no Python 3.10 interpreter here")
    script = (
        "import ast, pathlib, sys\n"
        "bad = []\n"
        "for folder in sys.argv[1:]:\n"
        "    for path in pathlib.Path(folder).rglob('*.py'):\n"
        "        tree = ast.parse(path.read_text(), str(path))\n"  # 3.10 grammar
        "        if path.name == 'compat.py':\n"  # the guarded fallbacks live there
        "            continue\n"
        "        for node in ast.walk(tree):\n"
        "            if isinstance(node, ast.ImportFrom) and node.module in "
        "('enum', 'typing', 'tomllib') and any(a.name in ('StrEnum', 'Self', "
        "'LiteralString', 'Never', 'assert_never', 'reveal_type') for a in node.names):\n"
        "                bad.append(f'{path}:{node.lineno}')\n"
        "            if isinstance(node, ast.Import) and any(a.name == 'tomllib' "
        "for a in node.names):\n"
        "                bad.append(f'{path}:{node.lineno}')\n"
        "print('\\n'.join(bad))\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run(
        [
            PY310,
            "-c",
            script,
            str(ROOT / "custom_components" / "smart_play" / "vision"),
            str(ROOT / "agent"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
