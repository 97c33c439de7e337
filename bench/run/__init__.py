"""``sitebench run``: workloads on this machine, from the suite's specs through the runner's
phases to the session's result file, and a torchrun fleet's ranks."""
