"""Legacy 15-18 TCP link (Twisted): server mode (the LRM connects to us) and client mode."""
