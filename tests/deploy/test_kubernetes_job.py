"""The miners guide's Kubernetes Indexed Job, run through its environment: each pod's command from the page's manifest,
with what Kubernetes gives that pod (``JOB_COMPLETION_INDEX``, the manifest's variables, the downward API's label) and
its volumes at temporary paths, against simulated miners; then the merge Job's command as the page applies it."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from bench.record import load
from bench.testing.miners import SimFleet, SimMiner
from bench.validation import validate_file
from tests.deploy.conftest import BIN
from tests.deploy.pages import FAST, GUIDE, block

HOSTS = [f"127.27.2.{i}" for i in range(1, 9)]
#: The Job's uid, as the downward API gives it through the controller-uid label.
UID = "5d0c3f7e-2b1a-4c8e-9f00-27a1b2c3d4e5"


def pod(manifest: dict[str, Any]) -> dict[str, Any]:
    (container,) = manifest["spec"]["template"]["spec"]["containers"]
    return container


def environment(container: dict[str, Any], index: int | None) -> dict[str, str]:
    """What the pod's container sees: this environment (PATH to sitebench) and the manifest's variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "SITEBENCH_")) and k != "JOB_COMPLETION_INDEX"}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = var["value"]
        else:
            path = var["valueFrom"]["fieldRef"]["fieldPath"]
            assert re.fullmatch(r"metadata\.labels\['(batch\.kubernetes\.io/)?controller-uid'\]", path), path
            env[var["name"]] = UID
    if index is not None:
        env["JOB_COMPLETION_INDEX"] = str(index)
    return env


def command(container: dict[str, Any], mounts: dict[str, Path]) -> list[str]:
    """The container's command and arguments, each volume's mount path replaced by its temporary directory."""
    argv = [*container["command"], *container.get("args", [])]
    paths = {m["mountPath"]: mounts[m["name"]] for m in container.get("volumeMounts", [])}
    for mount, local in sorted(paths.items(), key=lambda kv: -len(kv[0])):
        argv = [a.replace(mount, str(local)) for a in argv]
    return argv


def test_the_guides_indexed_job_of_four_shards_then_its_merge_job(tmp_path: Path) -> None:
    shards_job = yaml.safe_load(block(GUIDE, "miners-shards.yaml"))
    merge_job = yaml.safe_load(block(GUIDE, "miners-merge.yaml"))
    spec = shards_job["spec"]
    assert spec["completionMode"] == "Indexed" and spec["completions"] == spec["parallelism"] == 4
    shard = pod(shards_job)
    assert {"name": "SITEBENCH_SHARDS", "value": str(spec["completions"])} in shard["env"]

    mounts = {"hosts": tmp_path / "etc", "results": tmp_path / "results"}
    mounts["hosts"].mkdir()
    mounts["results"].mkdir()  # an empty volume: the shards' directory is made by the first shard
    (mounts["hosts"] / "hosts.txt").write_text("\n".join(HOSTS) + "\n")  # the ConfigMap, from-file=hosts.txt
    argv = command(shard, mounts)
    argv[-1] = re.sub(r"(sitebench miners run [^|]*?)(\s*\|\||$)", lambda m: f"{m.group(1)} {' '.join(FAST)}{m.group(2)}",
                      argv[-1], count=1)
    assert " ".join(FAST) in argv[-1]
    with SimFleet([SimMiner(h, difficulty=64, seed=i) for i, h in enumerate(HOSTS)]):
        pods = [subprocess.Popen(argv, env=environment(shard, k), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True, cwd=tmp_path) for k in range(spec["completions"])]
        logs = [p.communicate(timeout=240)[0] for p in pods]
    assert [p.returncode for p in pods] == [0, 0, 0, 0], [log[-2000:] for log in logs]
    for k, log in enumerate(logs):
        assert f"shard {k}/4 from the Kubernetes Indexed Job (JOB_COMPLETION_INDEX={k}, SITEBENCH_SHARDS=4)" in log, log
        assert f"run id {UID}" in log

    merge = pod(yaml.safe_load(block(GUIDE, "miners-merge.yaml").replace("RUN_ID", UID)))  # as the page's sed does
    assert merge_job["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"] == \
        shards_job["spec"]["template"]["spec"]["volumes"][1]["persistentVolumeClaim"]
    done = subprocess.run(command(merge, mounts), env=environment(merge, None), capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    fleet = mounts["results"] / f"fleet-{UID}.json"
    assert f"run {UID}, 4 of 4 shard(s), {len(HOSTS)} miner(s) ({len(HOSTS)} measured" in done.stdout + done.stderr
    found = validate_file(fleet).findings
    assert found == [], [f.line(str(fleet)) for f in found]
    merged = load(fleet).miners_fleet
    assert merged is not None and merged.complete and merged.run_id == UID and merged.totals.miners == len(HOSTS)
    per_shard = [r.device for p in sorted((mounts["results"] / "shards").glob("*.json")) for r in load(p).runs]
    assert sorted(per_shard) == sorted(f"asic:{h}" for h in HOSTS)
