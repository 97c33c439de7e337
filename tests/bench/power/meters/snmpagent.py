"""A real SNMP agent (snmpsim) on loopback serving the PDU walks of ``data/snmp`` (community = file name).

snmpsim refuses to run as root unless it drops to an unprivileged user, and that user cannot import
a Python installed under a private home (this project's venvs point into /root/.pyenv); as root the
agent is therefore started with ``SNMPSIM_ALLOW_ROOT=true`` (honoured since snmpsim 1.2.2), which
keeps it in this Python.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

DATA = Path(__file__).parent / "data" / "snmp"


class Agent:
    """One snmpsim process on 127.0.0.1:``port``, ready when it says it listens."""

    def __init__(self, tmp: Path) -> None:
        data = tmp / "data"
        shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("*.md"))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = {**os.environ, "SNMPSIM_ALLOW_ROOT": "true"}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "import sys; from snmpsim.commands.responder import main; sys.exit(main())",
             f"--data-dir={data}", f"--cache-dir={tmp / 'cache'}", f"--agent-udpv4-endpoint=127.0.0.1:{self.port}",
             "--v3-user=sitebench", "--v3-auth-key=auth-key-123", "--v3-auth-proto=SHA",
             "--v3-priv-key=priv-key-123", "--v3-priv-proto=AES"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.output: list[str] = []
        listening = threading.Event()

        def watch() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self.output.append(line)
                if "Listening at UDP/IPv4 endpoint" in line:
                    listening.set()
            listening.set()  # exited: stop waiting

        threading.Thread(target=watch, daemon=True).start()
        if not listening.wait(120) or self.proc.poll() is not None:
            self.stop()
            raise RuntimeError("snmpsim did not start:\n" + "".join(self.output[-20:]))

    def arg(self, community: str, **options: str) -> str:
        return ",".join([f"127.0.0.1:{self.port}", f"community={community}", *(f"{k}={v}" for k, v in options.items())])

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
