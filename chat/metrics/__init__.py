"""The process's metrics, kept in memory and updated as the work happens (Prometheus' own
client, chat/metrics/series.py), so that a scrape of /metrics reads them and asks no store.

`Metrics` builds every series once into its own registry (passed explicitly, never the client's
global one: two services in one test process keep apart). The hot paths hold pre-bound label
children (`SessionMeter`, `ProjectorMeter`) and make one `inc` or `observe` per event.
`render` writes the text; under `chat serve --workers N` (PROMETHEUS_MULTIPROC_DIR set by the
parent) it merges every worker's figures, so whichever worker answers the shared port answers
for all of them. structures.md, "Metrics and logs".
"""
