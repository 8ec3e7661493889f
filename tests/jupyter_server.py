"""A real JupyterLab server on loopback for the browser test, with nothing leaking outside a temp folder.

``start_jupyterlab(root)`` runs ONE ``python -m jupyter lab`` process (this interpreter's, so its kernels
run in the project's virtualenv) on a free 127.0.0.1 port with a random token, and waits (bounded) until
``/api/status`` answers. Everything Jupyter and IPython would write under ``~`` goes to a fresh folder:
``JUPYTER_CONFIG_DIR``, ``JUPYTER_DATA_DIR``, ``JUPYTER_RUNTIME_DIR``, ``JUPYTERLAB_SETTINGS_DIR``,
``JUPYTERLAB_WORKSPACES_DIR``, ``IPYTHONDIR`` and ``HOME``. Extra variables (``LNNOTEBOOK_HOME``) are passed
to the server and so to its kernels.

The user settings written there switch off JupyterLab's news and update checks (the first-run "get
notified about news?" toast would sit over the page); the server is told not to check for updates
and not to fetch the news feed, and its extension manager is read-only (the default one queries
PyPI), so it reaches nothing outside the machine. As root (CI) it needs ``--allow-root``.

``JupyterLab.stop()`` ends the server by its process id (SIGTERM, which also shuts its kernels down,
then SIGKILL) and removes the folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import requests

STARTUP_SECONDS = 90.0
STOP_SECONDS = 15.0

# JupyterLab user settings (plugin id -> settings), written as <plugin dir>/<plugin>.jupyterlab-settings.
LAB_SETTINGS: dict[str, dict[str, object]] = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class JupyterLab:
    """A running server: its base URL, token and where its log is."""

    url: str
    token: str = field(repr=False)
    root: Path
    process: subprocess.Popen = field(repr=False)
    home: Path = field(repr=False)
    log_path: Path = field(repr=False)

    def lab_url(self, path: str = "") -> str:
        """The URL that opens ``path`` (relative to the root) in JupyterLab, logging in with the token."""
        return f"{self.url}/lab/tree/{path}?token={self.token}"

    def api(self, path: str, **kwargs) -> requests.Response:
        session = requests.Session()
        session.trust_env = False  # loopback directly, whatever proxies the machine has
        with session:
            return session.get(
                f"{self.url}{path}", headers={"Authorization": f"token {self.token}"}, timeout=10, **kwargs
            )

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM (JupyterLab shuts its kernels down), SIGKILL after STOP_SECONDS; then remove the folder."""
        try:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=STOP_SECONDS)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=STOP_SECONDS)
        finally:
            shutil.rmtree(self.home, ignore_errors=True)


def lab_environment(home: Path, extra: Mapping[str, str]) -> dict[str, str]:
    """The server's environment: this one, with every Jupyter/IPython folder moved under ``home``."""
    env = dict(os.environ)
    for name in ("JUPYTER_PATH", "JUPYTER_CONFIG_PATH", "JUPYTER_TOKEN", "MPLBACKEND"):
        env.pop(name, None)  # MPLBACKEND=Agg (set by some callers) would stop inline charts
    folders = {
        "HOME": home,
        "JUPYTER_CONFIG_DIR": home / "config",
        "JUPYTER_DATA_DIR": home / "data",
        "JUPYTER_RUNTIME_DIR": home / "runtime",
        "JUPYTERLAB_SETTINGS_DIR": home / "lab-settings",
        "JUPYTERLAB_WORKSPACES_DIR": home / "lab-workspaces",
        "IPYTHONDIR": home / "ipython",
    }
    for name, folder in folders.items():
        folder.mkdir(parents=True, exist_ok=True)
        env[name] = str(folder)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.update(extra)
    for plugin, settings in LAB_SETTINGS.items():
        package, _, name = plugin.partition(":")
        target = folders["JUPYTERLAB_SETTINGS_DIR"] / package / f"{name}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(settings), encoding="utf-8")
    return env


def start_jupyterlab(root: Path, extra_env: Mapping[str, str] | None = None) -> JupyterLab:
    """Start JupyterLab serving ``root`` and wait until it answers; the caller must call ``stop()``."""
    home = Path(tempfile.mkdtemp(prefix="lnnotebook-jupyter-"))
    token = secrets.token_hex(24)
    port = free_port()
    log_path = home / "jupyterlab.log"
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        f"--IdentityProvider.token={token}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.terminals_enabled=False",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.news_url=None",
        "--LabApp.extension_manager=readonly",  # the default "pypi" manager queries PyPI
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # CI runs as root; the server still listens on loopback only
    process: subprocess.Popen | None = None
    try:
        env = lab_environment(home, extra_env or {})
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                command,
                cwd=root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in the test terminal does not hit it before stop()
            )
        lab = JupyterLab(
            url=f"http://127.0.0.1:{port}",
            token=token,
            root=root,
            process=process,
            home=home,
            log_path=log_path,
        )
        _wait_until_ready(lab, time.monotonic() + STARTUP_SECONDS)
        return lab
    except BaseException:
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=STOP_SECONDS)
        shutil.rmtree(home, ignore_errors=True)
        raise


def _wait_until_ready(lab: JupyterLab, deadline: float) -> None:
    while True:
        if not lab.alive():
            raise RuntimeError(
                f"JupyterLab exited with code {lab.process.returncode} while starting; log tail:\n"
                f"{lab.log_text()[-3000:]}"
            )
        with contextlib.suppress(requests.RequestException):
            if lab.api("/api/status").status_code == 200:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"JupyterLab did not answer on {lab.url} within {STARTUP_SECONDS:g} s; log tail:\n"
                f"{lab.log_text()[-3000:]}"
            )
        time.sleep(0.25)


@contextlib.contextmanager
def running_jupyterlab(root: Path, extra_env: Mapping[str, str] | None = None) -> Iterator[JupyterLab]:
    lab = start_jupyterlab(root, extra_env)
    try:
        yield lab
    finally:
        lab.stop()
