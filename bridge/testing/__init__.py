"""Helpers for tests, benchmarks and demos: test messages and a private RabbitMQ node."""
