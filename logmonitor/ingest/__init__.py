"""Ingest: the decoders that turn OTLP, Loki push and NDJSON bodies into records of DESIGN section 2.

The decoders are pure (no network, no Faust): the ingest server and the router's Kafka path
(OTLP batches written by the OpenTelemetry Collector's Kafka exporter) both use them.
"""
