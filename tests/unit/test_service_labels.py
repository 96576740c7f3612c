"""The routed-records metric's service label: at most the cap of names, then _overflow; expired names removed."""

from logmonitor.metrics import RECORDS_ROUTED
from logmonitor.pipeline.service_labels import ServiceLabels
from logmonitor.pipeline.tables.service_registry import OVERFLOW, bucket_name


def test_names_beyond_the_limit_are_labelled_overflow() -> None:
    labels = ServiceLabels(2)
    assert [labels.label(name) for name in ("a", "b", "c", "a", bucket_name(1))] == ["a", "b", OVERFLOW, "a", OVERFLOW]


def test_a_forgotten_service_loses_its_series_and_frees_its_label() -> None:
    labels = ServiceLabels(1)
    RECORDS_ROUTED.labels(labels.label("label-test-gone"), "INFO").inc()
    assert labels.label("label-test-other") == OVERFLOW
    labels.forget("label-test-gone")
    sampled = {tuple(s.labels.values()) for metric in RECORDS_ROUTED.collect() for s in metric.samples}
    assert ("label-test-gone", "INFO") not in sampled
    assert labels.label("label-test-other") == "label-test-other"
