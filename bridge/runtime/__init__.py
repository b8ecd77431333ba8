"""One bridge process: configuration, logging, security checks, start-up."""
