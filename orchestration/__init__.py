"""Dagster code location for the MOEA server bulletin pipeline."""
