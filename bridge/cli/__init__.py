"""Command-line interface (an edge): one module per command or command group."""
