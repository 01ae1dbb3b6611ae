"""The pipeline's assets: ingestion, dbt models, publication."""
