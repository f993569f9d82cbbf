"""The Amazon States Language: how a state's data flows, and a replay of it.

JSONPath (:mod:`.jsonpath`), intrinsic functions (:mod:`.intrinsics`), JSONata
(:mod:`.jsonata_eval`), the data-flow table of every state type (:mod:`.dataflow`), the
context object (:mod:`.context`), the variables in scope (:mod:`.variables`), the next state
(:mod:`.next_state`), the kind of a Map (:mod:`.maps`), the replay of an execution's visits
(:mod:`.replay`) and of one visit (:mod:`.engine`, with payload templates in
:mod:`.templates`, Choice rules in :mod:`.choice`, errors in :mod:`.failures`, AWS's run-time
checks in :mod:`.aws_checks` and JSON comparison in :mod:`.jsoncompare`), the replay's
budgets (:mod:`.budgets`), definition drift (:mod:`.drift`) and where each state sits in a
definition's text (:mod:`.positions`).

Import rule: ``asl`` imports :mod:`sfn_trace.model` and :mod:`sfn_trace.errors` only
(docs/architecture.md).
"""
