"""A real single-node Slurm cluster on localhost, started and stopped by the tests that use it.

The fixture generates a munge key and a ``slurm.conf`` in a temporary directory, starts ``munged``,
``slurmctld`` and ``slurmd`` (each in the foreground, in its own session, logging to that directory)
on free loopback ports, and waits until ``sinfo`` shows the node idle. The clients (``sinfo``,
``sbatch``, ``srun``...) find the cluster through ``SLURM_CONF`` in :attr:`Slurm.env`. Nothing outside
the temporary directory is touched (the system's ``/etc/slurm`` and munge socket are left alone).

Without Debian's ``slurm-wlm`` and ``munge`` (``apt-get install slurm-wlm munge``) the tests skip and say so.
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

#: This environment's scripts (``sitebench``, ``python``): first on the PATH of the cluster's jobs, which inherit it.
BIN = Path(sys.executable).parent
DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sinfo", "sbatch", "srun", "squeue", "scontrol")
#: How long the cluster may take to show its node idle (a loaded 2-core CI machine is slow to start daemons).
START_DEADLINE_S = 90.0
#: How long a test waits for its jobs.
JOB_DEADLINE_S = 120.0


def _which(name: str) -> str | None:
    return shutil.which(name) or next((str(p) for d in ("/usr/sbin", "/sbin") if (p := Path(d) / name).is_file()), None)


def missing_programs() -> list[str]:
    """The daemons and clients this fixture needs that are not installed."""
    return [n for n in (*DAEMONS, *CLIENTS) if _which(n) is None]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Slurm:
    """A running cluster: its directory, its configuration, and the environment its clients need."""

    root: Path
    conf: Path
    env: dict[str, str]

    def run(self, *argv: str, timeout_s: float = 60, check: bool = True,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """A Slurm client (or any program) with the cluster's environment; output captured as text."""
        proc = subprocess.run(list(argv), env=self.env, capture_output=True, text=True, timeout=timeout_s, cwd=cwd)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(argv)}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}\n{self.logs()}")
        return proc

    def node_state(self) -> str:
        """The node's state as ``sinfo`` reports it (``idle``, ``mixed``, ``down*``...), or ``?`` when it cannot say."""
        proc = self.run("sinfo", "--noheader", "-N", "-o", "%T", check=False, timeout_s=20)
        return proc.stdout.strip().splitlines()[0].strip() if proc.returncode == 0 and proc.stdout.strip() else "?"

    def wait_jobs(self, job_id: str, deadline_s: float = JOB_DEADLINE_S) -> None:
        """Until no task of job ``job_id`` (an array's too) is pending or running."""
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            left = self.run("squeue", "--noheader", "-j", job_id, "-o", "%i %T", check=False).stdout.strip()
            if not left:
                return
            time.sleep(0.5)
        raise AssertionError(f"job {job_id} still queued or running after {deadline_s:.0f} s\n{self.logs()}")

    def wait_idle(self, deadline_s: float = JOB_DEADLINE_S) -> None:
        """Until no job at all is pending or running."""
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if not self.run("squeue", "--noheader", "-o", "%i", check=False).stdout.strip():
                return
            time.sleep(0.5)
        raise AssertionError(f"jobs still queued or running after {deadline_s:.0f} s\n{self.logs()}")

    def logs(self, tail: int = 30) -> str:
        """The last lines of each daemon's log, for a failure's message."""
        out = []
        for name in DAEMONS:
            path = self.root / f"{name}.log"
            if path.exists():
                lines = path.read_text(errors="replace").splitlines()[-tail:]
                out.append(f"--- {name}.log ---\n" + "\n".join(lines))
        return "\n".join(out)


def node_memory_mb() -> int:
    """Nine tenths of this machine's memory in MB (a node that reports less than its RealMemory is drained)."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 9 // 10 // 1024
    return 1024


def slurm_conf(root: Path, *, user: str, cpus: int, ctld_port: int, slurmd_port: int, socket_path: Path) -> str:
    """The cluster's ``slurm.conf``: one node, one default partition, no accounting, no cgroups."""
    return f"""\
ClusterName=sitebench-test
SlurmctldHost=localhost
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser={user}
SlurmdUser={user}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={socket_path}
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
PlugStackConfig={root}/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MaxArraySize=1000
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
NodeName=localhost NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={node_memory_mb()} State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
"""


def _start(argv: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="session")
def slurm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slurm]:
    """A single-node Slurm cluster on localhost for the session; skips when slurm-wlm or munge is missing."""
    missing = missing_programs()
    if missing:
        pytest.skip(f"a real Slurm cluster needs Debian's slurm-wlm and munge (missing: {', '.join(missing)}); "
                    "apt-get install slurm-wlm munge")
    root = tmp_path_factory.mktemp("slurm")
    root.chmod(0o755)  # munged refuses a key or socket under a directory others may write
    for sub in ("state", "spool", "munge"):
        (root / sub).mkdir()
    (root / "munge").chmod(0o700)
    key = root / "munge" / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o600)
    socket_path = root / "munge" / "munge.socket"
    (root / "plugstack.conf").write_text("")
    conf = root / "slurm.conf"
    conf.write_text(slurm_conf(root, user=getpass.getuser(), cpus=os.cpu_count() or 1, ctld_port=_free_port(),
                               slurmd_port=_free_port(), socket_path=socket_path))
    env = {**os.environ, "SLURM_CONF": str(conf), "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    for k in [k for k in env if k.startswith(("SLURM_", "SBATCH_", "SRUN_", "SALLOC_")) and k != "SLURM_CONF"]:
        del env[k]  # a test run inside someone's Slurm job must not submit into that job's cluster
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(_start([_which("munged") or "munged", "--foreground", "--force", f"--key-file={key}",
                             f"--socket={socket_path}", f"--pid-file={root / 'munge' / 'munged.pid'}",
                             f"--seed-file={root / 'munge' / 'munged.seed'}", f"--log-file={root / 'munged.log'}"],
                            root / "munged.out", env))
        _wait(lambda: socket_path.exists(), "munged's socket", procs, root)
        procs.append(_start([_which("slurmctld") or "slurmctld", "-D", "-i", "-f", str(conf)], root / "slurmctld.out", env))
        procs.append(_start([_which("slurmd") or "slurmd", "-D", "-N", "localhost", "-f", str(conf)],
                            root / "slurmd.out", env))
        cluster = Slurm(root, conf, env)
        _wait(lambda: re.fullmatch(r"idle", cluster.node_state()) is not None, "the node idle in sinfo", procs, root)
        yield cluster
    finally:
        for proc in reversed(procs):
            _stop(proc)


def _wait(ready: Callable[[], bool], what: str, procs: list[subprocess.Popen[bytes]], root: Path) -> None:
    """Until ``ready()`` (polled), or fail with the daemons' logs when one exits or the deadline passes."""
    end = time.monotonic() + START_DEADLINE_S
    dead: list[str] = []
    while time.monotonic() < end and not dead:
        if ready():
            return
        dead = [str(p.args[0]) for p in procs if p.poll() is not None]
        time.sleep(0.25)
    logs = "\n".join(f"--- {p.name} ---\n" + "\n".join(p.read_text(errors="replace").splitlines()[-20:])
                     for p in sorted(root.glob("*.log")) + sorted(root.glob("*.out")))
    raise AssertionError(f"the Slurm test cluster did not come up ({what} not seen"
                         f"{'; exited: ' + ', '.join(dead) if dead else ''})\n{logs}")
