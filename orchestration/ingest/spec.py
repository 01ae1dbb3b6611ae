"""What a source is, in one small record: :class:`SourceSpec`.

Each parser module defines its source's ``SPEC`` beside the code that reads it; the registry
(:mod:`.sources`) collects them, and everything else that needs to know a source (the loader,
the ingest assets, the settings' list of sources) reads it there.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceSpec:
    """One source: where its downloads are, what they look like, and the table they load.

    - ``source``: its folder under the raw folder (``raw/<source>/<YYYY-MM-DD>/``) and its name.
    - ``table``: the table of the ``raw`` schema its downloads load into.
    - ``file_patterns``: the names of its download files (any other file is ignored).
    - ``description``: a download of it, as a message names one (``a Global Trade Atlas export``).
    - ``asset_description``: what the ingest asset holds, for the Dagster UI.
    - ``key``: the columns of one observation within a download (two rows of one download
      with the same key and different values are a fault).
    - ``value_column``, ``period_column``: the observation's value and its period.
    - ``row_label``: what ``source_row`` counts: ``line`` of a text file, ``row`` of a sheet.
    - ``signatures``: how its files' first bytes look, to tell another source's file at once.
    - ``reads``: the kinds of file (:mod:`.sniff`) the parser reads beyond text; a workbook or
      page of one of these kinds is judged by its content, not by its first bytes.
    - ``optional``: the bulletin is built without it by default (a source an exhibit may be
      switched to, such as an API the fetch job asks): no download yet is an empty table, not
      a fault. Its parser then says the table's columns (``create_table_sql``).
    """

    source: str
    table: str
    file_patterns: tuple[str, ...]
    description: str
    asset_description: str
    key: tuple[str, ...]
    value_column: str
    period_column: str
    row_label: str = "line"
    signatures: tuple[bytes, ...] = ()
    reads: tuple[str, ...] = ()
    optional: bool = False

    @property
    def raw_table(self) -> str:
        """The table with its schema: ``raw.<table>``."""
        return f"raw.{self.table}"
