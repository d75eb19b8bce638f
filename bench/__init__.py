"""The bench load suite: capacity, latency and durability figures of a running chat service.

It drives the service only through its public REST and WebSocket API (../shared/CONTRACT.md),
from several load processes, and writes one JSON file (plus PNG plots) per run to
bench/results/. `python -m bench --help` lists the options; README "Performance" has figures.
"""
