"""Shards: a balanced, reorder-stable slice of the host list, from --shard K/N, a Slurm array or a Kubernetes Indexed Job."""

from __future__ import annotations

import random

import pytest

from bench.errors import UsageError
from bench.miners.fleet.shard import Shard, assign, choose, from_env, parse, select
from bench.testing.miners import addresses

HOSTS = addresses("10.1.0.1", 10_007)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 64])
def test_every_address_in_exactly_one_shard_and_the_shards_balanced_by_count(n: int) -> None:
    shards = [assign(HOSTS, Shard(k, n)) for k in range(n)]
    seen = [a for s in shards for a in s]
    assert sorted(seen) == sorted(HOSTS), "every address once, none lost"
    sizes = [len(s) for s in shards]
    assert max(sizes) - min(sizes) <= 1, sizes


def test_the_slice_does_not_depend_on_the_order_of_the_list_or_duplicates() -> None:
    shuffled = HOSTS[:]
    random.Random(7).shuffle(shuffled)
    for k in range(4):
        assert assign(shuffled + shuffled[:50], Shard(k, 4)) == assign(HOSTS, Shard(k, 4))


def test_each_shard_gets_a_mix_of_the_list_not_a_contiguous_block() -> None:
    first = set(assign(HOSTS, Shard(0, 4)))
    assert 0.15 < len(first & set(HOSTS[:2000])) / 2000 < 0.35, "a hash order, not the file's order"


def test_select_expands_ranges_keeps_them_unnamed_and_fingerprints_the_whole_list() -> None:
    specs = ["10.2.0.0/29", "10.3.0.9", "miner-7:4029"]
    parts = [select(specs, Shard(k, 3)) for k in range(3)]
    assert {p.total for p in parts} == {8}, "6 hosts of the /29 plus two named"
    assert len({p.fingerprint for p in parts}) == 1
    every = [s for p in parts for s in p.specs]
    assert "10.3.0.9" in every and "miner-7:4029" in every
    assert sorted(s for s in every if s.endswith("/32")) == sorted(f"10.2.0.{i}/32" for i in range(1, 7))
    assert select(list(reversed(specs)), Shard(1, 3)) == parts[1]
    assert select(specs + ["10.3.0.10"], Shard(0, 3)).fingerprint != parts[0].fingerprint


@pytest.mark.parametrize("spec", ["4/4", "-1/4", "0/0", "1/", "a/b", "3", "1/4/5"])
def test_a_shard_spec_outside_0_to_n_minus_1_is_one_line(spec: str) -> None:
    with pytest.raises(UsageError, match="--shard") as exc:
        parse(spec)
    assert "\n" not in str(exc.value)


def test_parse() -> None:
    assert parse(" 2/4 ") == Shard(2, 4)
    assert parse("0/1").label == "0/1"


def test_slurm_array_gives_the_shard_and_says_so() -> None:
    env = {"SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_MIN": "5", "SLURM_ARRAY_TASK_MAX": "8",
           "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_JOB_ID": "991"}
    s = from_env(env)
    assert s is not None and (s.k, s.n, s.source) == (2, 4, "slurm")
    assert "Slurm job array" in s.said() and "SLURM_ARRAY_TASK_ID=7" in s.said()
    stepped = from_env({"SLURM_ARRAY_TASK_ID": "6", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "6",
                        "SLURM_ARRAY_TASK_STEP": "2", "SLURM_ARRAY_TASK_COUNT": "4"})
    assert stepped is not None and (stepped.k, stepped.n) == (3, 4)


def test_slurm_array_without_a_count_or_with_uneven_ids_is_refused() -> None:
    with pytest.raises(UsageError, match="evenly spaced"):
        from_env({"SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "7",
                  "SLURM_ARRAY_TASK_COUNT": "3"})  # --array=1,3,7
    with pytest.raises(UsageError, match="how many shards"):
        from_env({"SLURM_ARRAY_TASK_ID": "1"})


def test_kubernetes_indexed_job_needs_the_count_from_the_manifest() -> None:
    s = from_env({"JOB_COMPLETION_INDEX": "3", "SITEBENCH_SHARDS": "8"})
    assert s is not None and (s.k, s.n, s.source) == (3, 8, "kubernetes") and "Indexed Job" in s.said()
    with pytest.raises(UsageError, match="SITEBENCH_SHARDS"):
        from_env({"JOB_COMPLETION_INDEX": "3"})
    with pytest.raises(UsageError, match="outside 0..7"):
        from_env({"JOB_COMPLETION_INDEX": "8", "SITEBENCH_SHARDS": "8"})


def test_choose() -> None:
    slurm = {"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "0"}
    assert choose(None, {}) is None
    assert choose(None, slurm) == from_env(slurm)
    assert choose("auto", slurm) == from_env(slurm)
    assert choose("1/4", slurm) == Shard(1, 4)
    with pytest.raises(UsageError, match="says 1/4"):
        choose("2/4", slurm)
    with pytest.raises(UsageError, match="auto"):
        choose("auto", {})
