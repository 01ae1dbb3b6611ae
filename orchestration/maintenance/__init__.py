"""Maintenance commands, run by hand (``make seeds-check``), never by the pipeline."""
