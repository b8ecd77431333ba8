"""A local Hub Santé: provisions RabbitMQ with the Hub topology and runs the dispatcher."""
