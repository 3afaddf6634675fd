"""`make bench`: throughput, latency, history size and scale-at-rest figures for the Peer Review service.

Run `python -m benchmarks.run --help`. Nothing here is asserted: the figures are reported, never tested.
"""
