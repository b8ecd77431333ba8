"""Schema-driven JSON <-> XML canonicalisation of Hub Santé messages."""
