"""The pipeline: the router agent, record parsing, aggregation and the tables, each owning its key format."""
