"""Ingestion: every source download into the warehouse's ``raw`` schema, in parts a reader can name.

- ``sources``: the registry of sources; each parser module (``customs``, ``gta``, ``itc``,
  ``moea``, and the API sources the fetch job writes, ``census`` and ``comtrade``) defines its
  ``SPEC`` (``spec.SourceSpec``: file patterns, table, key, value and period columns), the one
  place that says what a source is.
- ``json_answer``: an API's JSON answer decoded, or refused saying what it is instead (a page,
  cut off); the fetch (orchestration/fetch/) checks an answer with the parsers' own reading.
- ``loader``: loads every download of a source into its table (what is new, in one transaction).
- ``discovery``: finds the download folders and files.
- ``files``: a download file and ``IngestError``, the error that names it.
- ``sniff``: what a file is, from its bytes; ``encoding``: UTF-8 or Big5.
- ``checks``: header, row and text checks; ``number_check``: the one check of a value.
- ``csv_reader``: DuckDB's reader for delimited text; ``html_table``: the tables of a page.
- ``scanning``: one pass over a file's bytes (lines, hash); ``large_files``: Big5 downloads of
  gigabytes read by DuckDB's parallel reader (the customs export).
"""
