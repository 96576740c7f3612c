"""Alerting: rules evaluated over table state, alerts published to Kafka, notifiers that deliver them."""
