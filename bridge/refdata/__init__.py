"""Reference data read from disk: project resources, schema bundles, profiles, mapping tables, code lists, the Hub body codec."""
