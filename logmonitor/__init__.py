"""logmonitor: real-time log and error monitoring for microservices on Kafka and Faust."""

__version__ = "0.1.0"
