"""Developer tooling: a local Kafka, the demo services and the devstack; never imported by the server."""
