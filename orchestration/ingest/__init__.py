"""Parsers of the four source downloads, one module a source, and the loader they share."""
