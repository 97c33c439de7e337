"""pytest-benchmark integration for sitebench (conversion to and from sitebench.result/1)."""
