"""Everything sfn-trace reads from AWS, and the only package that imports boto3.

- :mod:`.client`: clients with botocore's standard retries, every failure as one line;
- :mod:`.pacing`: AWS's token buckets (one table of quotas), kept from this side;
- :mod:`.history`: one execution's description, the definition that ran and every history
  page;
- :mod:`.logs`: the CloudWatch Logs lines of the Lambda invocations in a history;
- :mod:`.express`: an Express execution from its CloudWatch Logs execution records;
- :mod:`.maprun`: Distributed Map runs and their child executions;
- :mod:`.executions`: a state machine's executions, listed and read for ``scan``;
- :mod:`.state_machine`: a state machine's (version's, alias's) definition, for ``lint``;
- :mod:`.teststate`: ``states:TestState``, every Task mocked, for ``--confirm``.

Imported only on the paths that call AWS (``api`` imports it lazily), so offline runs and
``--help`` never load boto3.

Import rule: ``sources.aws`` imports :mod:`sfn_trace.model`, :mod:`sfn_trace.errors` and
the rest of :mod:`sfn_trace.sources` (docs/architecture.md).
"""
