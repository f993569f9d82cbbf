"""The fetch layer: everything sfn-trace reads from AWS, and the only importer of boto3.

- :mod:`.aws`: options, clients with standard retries, one-line error messages;
- :mod:`.history`: one execution's description, definition and full history;
- :mod:`.logs`: the CloudWatch Logs lines of the Lambda invocations in a history.
"""

from sfn_trace.sources.aws.client import AwsOptions, ProgressCallback, stepfunctions_client
from sfn_trace.sources.aws.history import fetch_execution

__all__ = ["AwsOptions", "ProgressCallback", "fetch_execution", "stepfunctions_client"]
