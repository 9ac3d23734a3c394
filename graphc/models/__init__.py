"""Model definitions, one file per model, each with ``build(**config) -> graphc.Model`` (public API only)."""
