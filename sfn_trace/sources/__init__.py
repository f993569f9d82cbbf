"""Where an execution comes from: a saved file, a bundle, or AWS.

History files (:mod:`.files`), sfn-trace bundles (:mod:`.bundle`), CloudWatch Logs
execution records of Express workflows (:mod:`.express_records`), Lambda log line formats
(:mod:`.lambda_logs`), and :mod:`.aws`, the only package that imports boto3 (imported only
on the paths that call AWS, so offline runs never load it).

Import rule: ``sources`` imports :mod:`sfn_trace.model`, :mod:`sfn_trace.asl` and
:mod:`sfn_trace.errors` (docs/architecture.md).
"""
