"""The message life, transport-neutral: service, translator, replay and the ports the edges implement."""
