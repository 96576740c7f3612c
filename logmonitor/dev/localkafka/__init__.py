"""A real single-node KRaft Kafka for development and tests, resolved from Maven Central."""

from logmonitor.dev.localkafka.broker import LocalKafka, default_cache_dir, default_data_dir
from logmonitor.dev.localkafka.errors import LocalKafkaError
from logmonitor.dev.localkafka.jars import KAFKA_VERSION

__all__ = ["KAFKA_VERSION", "LocalKafka", "LocalKafkaError", "default_cache_dir", "default_data_dir"]
