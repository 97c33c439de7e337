"""Built-in sitebench workloads, registered through the `sitebench.workloads` entry points."""
