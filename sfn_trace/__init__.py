"""sfn-trace: forensic diagnosis of AWS Step Functions executions.

The pipeline is ``fetch -> trace -> report``:

- :mod:`sfn_trace.sources.aws` pulls an execution from AWS (the only module that imports boto3),
  :mod:`sfn_trace.sources.files` reads the same data from a saved file;
- :mod:`sfn_trace.trace` turns history events into state visits and field findings (pure);
- :mod:`sfn_trace.report` renders one :class:`~sfn_trace.model.result.TraceResult`.

The library is usable without the CLI: ``sfn_trace.api.trace_file`` and
``sfn_trace.api.trace_execution`` return the result object that the CLI renders.
"""

__version__ = "0.1.0"
