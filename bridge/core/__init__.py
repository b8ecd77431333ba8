"""The sans-IO core of hub-bridge.

Everything under ``bridge.core`` is pure: it turns bytes and values into other
bytes and values. It opens no socket or file, reads no clock, starts no thread
and keeps no mutable module state. Time, identifiers and loaded reference data
(schemas, code lists, mapping tables) are passed in by the caller. A test
(``tests/unit/test_core_purity.py``) walks the imports and fails if an edge
module or an I/O library sneaks in.
"""
