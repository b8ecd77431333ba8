"""Edges: everything that does I/O (Twisted, pika, SQLite, HTTP, files)."""
