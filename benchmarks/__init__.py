"""Benchmarks of sfn-trace (``make bench``) and the tools they need.

- :mod:`benchmarks.generate_history`: a synthetic, realistic execution history of any size up
  to the AWS maximum (25,000 events), with the ASL definition that would produce it.
- :mod:`benchmarks.paging_proxy`: a loopback proxy in front of the lab's moto server that
  pages ``GetExecutionHistory`` like AWS, counts calls and injects faults.
- :mod:`benchmarks.bench`: the measurements, written to ``benchmarks/RESULTS.md``.
"""
