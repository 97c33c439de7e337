"""One module per subcommand, each with ``register(subparsers)`` adding its parser.

:data:`COMMANDS` names every subcommand, in the order ``sitebench --help`` lists them,
with its module and one-line help: the CLI lists them all from this table and imports
only the module of the command being run (:func:`bench.cli.build_parser`).
"""

#: name -> (module under bench.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run", "run workloads, sample power, write a result file"),
    "serve": ("serve", "benchmark an OpenAI-compatible inference server, with power"),
    "miners": ("miners", "find and measure ASIC miners over their LAN APIs"),
    "list": ("list", "list workloads and the power meters found on this machine"),
    "show": ("show", "print a result file as tables"),
    "mine": ("mine", "find the nonces of a block header that meet a target"),
    "generate": ("generate", "greedy token ids from a local Llama checkpoint"),
    "size": ("size", "size an allocation of MW from result files, with error bars"),
    "plan": ("plan", "evaluate a site plan: machines, throughput, energy, cost, revenue"),
    "derate": ("derate", "fit throughput and power against inlet temperature: a derating curve with a knee"),
    "declare": ("declare", "write a declared result file from published figures"),
    "validate": ("validate", "check result files (schema, consistency, plausibility, signature)"),
    "keygen": ("keygen", "create an Ed25519 signing key pair"),
    "sign": ("sign", "sign a result file with an Ed25519 key"),
    "submit": ("submit", "validate a result file and add it to the submission store"),
    "compare": ("compare", "compare two result files run by run"),
    "leaderboard": ("leaderboard", "rank stored submissions by work per joule"),
    "report": ("report", "write a self-contained HTML report with plots"),
    "baseline": ("baseline", "save or check a pytest-benchmark baseline"),
    "qualify": ("qualify", "PASS/FAIL per device (CPU, GPU, ASIC miner, endpoint), node and fleet against a spec"),
    "fleet": ("fleet", "run on many GPUs/nodes through torchrun (or srun under Slurm)"),
    "merge": ("merge", "join a fleet run's shards into one fleet result (bounded memory)"),
    "recover": ("recover", "rebuild a result file from the journal of a killed run"),
    "import": ("import_", "a vLLM or guidellm serving result as a result file, power from a log"),
}


def help_of(name: str) -> str:
    """The one-line help of subcommand ``name``."""
    return COMMANDS[name][1]
