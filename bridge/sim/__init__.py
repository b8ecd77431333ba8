"""Everything that pretends to be someone else: in-process Hub, Hub emulator, simulated NexSIS peer, demo."""
