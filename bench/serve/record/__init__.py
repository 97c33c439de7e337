"""The result file of ``sitebench serve`` and ``sitebench import``: the run record, the session
from start to file, the imported formats, the vLLM-style JSON."""
