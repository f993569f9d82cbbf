"""The pure middle of the pipeline: events -> visits -> field findings -> verdict.

No I/O, no boto3, no printing: everything here is a function of an
:class:`~sfn_trace.model.execution.ExecutionData` value.
"""

from sfn_trace.model.result import TraceResult, Verdict
from sfn_trace.trace.analyze import analyze

__all__ = ["TraceResult", "Verdict", "analyze"]
