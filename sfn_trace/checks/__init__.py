"""What sfn-trace checks beyond one trace: ``scan`` (many executions of a state machine),
``compare`` (a good and a bad run), ``lint`` (a definition, before it ships) and ``confirm``
(AWS TestState asked about a trace's culprit states).

Library code: no printing, no exits. Import rule: ``checks`` imports the earlier stages
(model, asl, sources, trace) and :mod:`sfn_trace.errors` (docs/architecture.md).
"""
