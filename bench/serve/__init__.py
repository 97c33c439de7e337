"""Benchmarking live inference servers through their OpenAI-compatible API (``sitebench serve``).

Three layers, bottom up: ``protocol`` (the API over HTTP), ``measure`` (load, steady window,
metrics, energy), ``record`` (the result file). Modules, in the order data flows:

- :mod:`~bench.serve.protocol.dataset`: the requests to send (``random:in=N,out=M`` or a JSONL file);
- :mod:`~bench.serve.protocol.server`: who answers at ``--base-url`` (``/v1/models``) and a probe request;
- :mod:`~bench.serve.protocol.boundary`: what crosses from outside: read timeout, deadline, byte limits,
  strict JSON;
- :mod:`~bench.serve.protocol.sse` and :mod:`~bench.serve.protocol.client`: one streamed request, timed per token,
  typed per event;
- :mod:`~bench.serve.protocol.counts`: a server's token count held against the token events it streamed;
- :mod:`~bench.serve.measure.load`: arrivals (Poisson / gamma, ``inf``) under a concurrency cap;
- :mod:`~bench.serve.measure.steady`: the steady-state window in which the server is at full load;
- :mod:`~bench.serve.measure.slices`: the window cut into marker-bounded slices, tokens attributed by event time;
- :mod:`~bench.serve.measure.metrics`: TTFT, TPOT, ITL, E2EL, throughput and goodput as vLLM defines them;
- :mod:`~bench.serve.measure.outcome`: one measurement with power sampled over the steady window;
- :mod:`~bench.serve.measure.energy`: joules per token, the power block refused when the window is not steady;
- :mod:`~bench.serve.record.runrecord`: a finished measurement as a ``sitebench.result/2`` run;
- :mod:`~bench.serve.record.session`: a whole ``sitebench serve``: journal, stop signals, the result file;
- :mod:`~bench.serve.record.formats` and :mod:`~bench.serve.record.importer`: vLLM and guidellm results imported.

Times are ``time.monotonic()`` seconds throughout, the clock the power sampler's markers use.
Nothing here imports aiohttp at module level except the modules that do HTTP.
"""
