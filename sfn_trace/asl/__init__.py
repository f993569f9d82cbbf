"""The Amazon States Language: how a state's data flows, and a replay of it.

JSONPath (:mod:`.jsonpath`), intrinsic functions (:mod:`.intrinsics`), JSONata
(:mod:`.jsonata_eval`), the data-flow table of every state type (:mod:`.dataflow`), the
replay of one visit's steps (:mod:`.replay`), definition drift (:mod:`.drift`) and where each
state sits in a definition's text (:mod:`.positions`).

Import rule: ``asl`` imports :mod:`sfn_trace.model` and :mod:`sfn_trace.errors` only
(docs/architecture.md).
"""
