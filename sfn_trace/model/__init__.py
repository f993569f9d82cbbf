"""The values that flow through the pipeline: plain, frozen data.

History events (:mod:`.events`), the definition (:mod:`.definition`), one execution's data
(:mod:`.execution`), state visits (:mod:`.visits`), the field's snapshots (:mod:`.snapshot`),
replayed data flows (:mod:`.replay`), AWS TestState's requests and verdicts
(:mod:`.confirm`) and the trace result (:mod:`.result`); ARNs
(:mod:`.arn`), how to reach AWS (:mod:`.options`), short renderings of JSON (:mod:`.text`),
and JSON text read and written exactly and strictly, at any depth (:mod:`.jsontext`).

Import rule: ``model`` imports nothing of sfn-trace's but :mod:`sfn_trace.errors`; every
later stage imports it (docs/architecture.md).
"""
