"""The pure middle of the pipeline: events -> visits -> field findings -> verdict.

:func:`analyze` runs the stages (:mod:`.analyze`): visits from the events (:mod:`.visits`),
the field's snapshots (:mod:`.field`), the replayed steps that changed it (:mod:`.steps`),
Distributed Map children (:mod:`.maprun`), redrive attempts (:mod:`.redrive`), the verdict
(:mod:`.verdict`, the only place it is decided), the sentences (:mod:`.explain`) and the blame
chain (:mod:`.chain`); :mod:`.redact` and :mod:`.invocations` serve the api, and
:mod:`.ahead` does the per-visit work of a live trace while its history arrives (the visits
settle as :mod:`.unfolding` follows them page by page).

No I/O, no boto3, no printing: everything here is a function of an
:class:`~sfn_trace.model.execution.ExecutionData` value.

Import rule: ``trace`` imports the earlier stages (:mod:`sfn_trace.model`,
:mod:`sfn_trace.asl`, :mod:`sfn_trace.sources`; in practice it needs no source) and
:mod:`sfn_trace.errors`, never a later one (docs/architecture.md).
"""

from sfn_trace.model.result import TraceResult, Verdict
from sfn_trace.trace.analyze import analyze

__all__ = ["TraceResult", "Verdict", "analyze"]
