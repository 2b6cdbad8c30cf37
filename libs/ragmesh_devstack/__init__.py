"""The local stack: starts Kafka, Jaeger, Triton and the five services as background processes
with logs and pid files under .run/ (used by `make up`, the tests and the demo)."""
