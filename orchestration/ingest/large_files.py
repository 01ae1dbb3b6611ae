"""The large-file path: a Big5 (CP950) download of gigabytes read by DuckDB's parallel reader.

Only the customs export runs to millions of rows. DuckDB reads UTF-8 and Latin-1 but not Big5
(its ``encodings`` extension is downloaded on first use, so it is not there), and transcoding
the whole file first (glibc's iconv, Python's codec) costs about as much as DuckDB's whole
read. But the Big5 text of such a file is in a few columns of few distinct values (flows,
months, countries, product names), and every byte of Big5 is one character of Latin-1, in
which a comma, a quote and a line break are what they are (no byte of a Big5 character is one
of them). So DuckDB reads the file as Latin-1 (:data:`LATIN1`) and the text is made from the
values, each decoded once by Python's cp950 codec (:class:`Big5Columns`): the text columns
are looked up as the rows are read (the values of lines sampled across the file become an
``ENUM`` type, a row's value its position in it; a product's long name is looked up by its
HS code and taken where it is the name sampled with that code; any other value is marked),
and what the lookups left is decoded afterwards, once per distinct value, with an ``UPDATE``
of the rows that hold one (:meth:`Big5Columns.fix_missed`): the marked values, and the
English names, loaded as read, which are ASCII but for a rare one. The text is therefore
always Python's. When anything is amiss (a
value that is not Big5, a line that is not a row), the file is transcoded by Python's codec
(:func:`transcode_with_python`) and read by the exact path, which names the fault.
"""

from __future__ import annotations

import codecs
import collections
import contextlib
import csv
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import duckdb

from .csv_reader import TextParts, utf8_parts
from .encoding import ENCODING_NAMES, sniff_text_encoding
from .files import DownloadFile
from .scanning import FileScan, Scanner, blocks

# DuckDB's reader option for the bytes of a Big5 file, one character a byte.
LATIN1 = "latin-1"
# Lines are sampled every this many bytes of the file for the values of its text columns (a
# product's rows, a few hundred by flow, month and country, span far more), and no more than
# SAMPLES lines: a larger file is sampled further apart (its products span more too).
SAMPLE_EVERY = 1 << 15
SAMPLES = 1 << 13
# A sampled line is read from this many bytes at its place (no line of a download comes near).
SAMPLE_READ = 1 << 11
# Marks a value the samples did not hold, still in Latin-1: no Big5 text starts with it.
MISSED = "\x01"


def sample_rows(path: Path, fields: int) -> list[list[str]]:
    """The fields (as Latin-1) of lines sampled evenly across a CSV file with ``fields`` fields a
    line (the first whole line after every :data:`SAMPLE_EVERY` bytes, or fewer: at most
    :data:`SAMPLES` lines)."""
    lines: list[str] = []
    size = path.stat().st_size
    every = max(SAMPLE_EVERY, size // SAMPLES)
    with path.open("rb", buffering=0) as f:
        for offset in range(every, max(size, 1), every):
            chunk = os.pread(f.fileno(), SAMPLE_READ, offset)
            start = chunk.find(b"\n") + 1
            end = chunk.find(b"\n", start)
            if start and end > start:
                lines.append(chunk[start:end].rstrip(b"\r").decode(LATIN1))
    return [row for row in csv.reader(lines) if len(row) == fields]


def as_latin1(text: str) -> str:
    """What Big5 text reads as in Latin-1 (to match such a value in SQL)."""
    return text.encode("cp950").decode(LATIN1)


def big5_text(value: str) -> str | None:
    """A Latin-1 value as its Big5 (CP950) text by Python's codec, or None when it is not Big5."""
    try:
        return value.encode(LATIN1).decode("cp950")
    except UnicodeDecodeError:
        return None


class Big5Columns:
    """The lookups that turn the Latin-1 values of a Big5 file's text columns into their text.

    From the sampled rows (:func:`sample_rows`): for each of the ``columns`` (name: field), its
    values that are Big5 become a temporary ``ENUM`` type and their texts a list, and
    :meth:`sql` is the text at the value's position in the type. A ``keyed`` column (name:
    (field, key column, key field)), whose long values go with a short key (a product's name
    with its HS code), is looked up by its key instead, and taken only where the row's value is
    the key's sampled one. Any other value is marked with :data:`MISSED`, for
    :meth:`fix_missed`. Used as a context manager, which drops the types; :meth:`params` are
    the query's parameters.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        prefix: str,
        rows: list[list[str]],
        columns: dict[str, int],
        keyed: dict[str, tuple[int, str, int]] | None = None,
    ) -> None:
        self.con, self.prefix = con, prefix
        self.types: dict[str, str] = {}
        self.params_: dict[str, list[str]] = {}
        self.keys: dict[str, str] = {}
        for name, index in columns.items():
            values = sorted({row[index] for row in rows})
            pairs = [(v, t) for v in values if (t := big5_text(v)) is not None and not t.startswith(MISSED)]
            if pairs:
                self._enum(name, [v for v, _ in pairs])
                self.params_[f"{name}_texts"] = [t for _, t in pairs]
        for name, (index, key_column, key_index) in (keyed or {}).items():
            seen: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
            for row in rows:
                seen[row[key_index]][row[index]] += 1
            triples = []
            for key in sorted(seen):
                value = seen[key].most_common(1)[0][0]
                text = big5_text(value)
                if text is not None and not text.startswith(MISSED):
                    triples.append((key, value, text))
            if triples:
                self._enum(name, [k for k, _, _ in triples])
                self.params_[f"{name}_values"] = [v for _, v, _ in triples]
                self.params_[f"{name}_texts"] = [t for _, _, t in triples]
                self.keys[name] = key_column

    def _enum(self, name: str, values: list[str]) -> None:
        type_name = f"{self.prefix}_{name}"
        self.con.execute(f'DROP TYPE IF EXISTS "{type_name}"')
        self.con.execute(
            f"""CREATE TEMP TYPE "{type_name}" AS ENUM (
                SELECT value FROM (SELECT unnest(?::VARCHAR[]) AS value, generate_subscripts(?::VARCHAR[], 1) AS i)
                ORDER BY i)""",
            [values, values],
        )
        self.types[name] = type_name

    def __enter__(self) -> Big5Columns:
        return self

    def __exit__(self, *exc: object) -> None:
        for type_name in self.types.values():
            with contextlib.suppress(duckdb.Error):  # an aborted transaction: the fault says why
                self.con.execute(f'DROP TYPE IF EXISTS "{type_name}"')

    def sql(self, name: str, column: str) -> str:
        """SQL: the text of ``column`` (``name`` in the samples), or its value marked as missed."""
        marked = f"(chr({ord(MISSED)}) || {column})"
        if name not in self.types:
            return marked
        at = f"enum_code(TRY_CAST({self.keys.get(name, column)} AS \"{self.types[name]}\")) + 1"
        if name in self.keys:
            return f"CASE WHEN {column} = ${name}_values[{at}] THEN ${name}_texts[{at}] ELSE {marked} END"
        return f"coalesce(${name}_texts[{at}], {marked})"

    def params(self) -> dict[str, list[str]]:
        return dict(self.params_)

    def fix_missed(
        self,
        table: str,
        where: str,
        params: list,
        looked_up: Sequence[str],
        as_read: Sequence[str],
    ) -> bool:
        """Decode what the lookups left in the rows of ``table`` that meet ``where``.

        The values of the ``looked_up`` columns marked as missed, and those of the ``as_read``
        columns (loaded as read: mostly ASCII, such as the English names) that are not ASCII;
        each distinct value once, then one ``UPDATE`` of the rows that hold one (as few as the
        samples missed). False when a value is not Big5: the caller reads the file the exact
        way, which names it.
        """
        columns = [*looked_up, *as_read]
        lists = ", ".join(f"list(DISTINCT {c})" for c in columns)
        found = self.con.execute(f"SELECT {lists} FROM {table} WHERE {where}", params).fetchone()
        for column, values in zip(columns, found, strict=True):
            if column in looked_up:
                pairs = [(v, big5_text(v[len(MISSED) :])) for v in values or () if v.startswith(MISSED)]
            else:
                pairs = [(v, big5_text(v)) for v in values or () if not v.isascii()]
            if not pairs:
                continue
            if any(t is None or t.startswith(MISSED) for _, t in pairs):
                return False
            self.con.execute(
                f"""UPDATE {table} SET {column} = m.text
                    FROM (SELECT unnest(?::VARCHAR[]) AS value, unnest(?::VARCHAR[]) AS text) AS m
                    WHERE {where} AND {table}.{column} = m.value""",
                [[v for v, _ in pairs], [t for _, t in pairs], *params],
            )
        return True


def transcode_with_python(
    file: DownloadFile, encoding: str, workdir: Path, allowed: Sequence[str]
) -> tuple[TextParts, FileScan]:
    """A UTF-8 copy of a Big5 (CP950) download by Python's codec, with its scan (lines, hash).

    Raises :class:`IngestError` naming the line and the bytes that are not Big5.
    """
    target = Path(tempfile.mkdtemp(prefix="utf8-", dir=workdir)) / "all.csv"
    return utf8_parts(target), _transcode_python(file, encoding, target, allowed)


def _transcode_python(file: DownloadFile, encoding: str, target: Path, allowed: Sequence[str]) -> FileScan:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    scanner = Scanner(file.path)
    try:
        with target.open("wb") as out:
            for block in blocks(file.path):
                out.write(decoder.decode(block).encode("utf-8"))
                scanner.update(block, len(block))
            out.write(decoder.decode(b"", final=True).encode("utf-8"))
    except UnicodeDecodeError as exc:
        # The whole-file check names the line and the bytes (and says if it is another encoding).
        sniff_text_encoding(file, allowed)
        raise file.error(None, f"cannot be read as {ENCODING_NAMES[encoding]}: {exc}") from exc
    return scanner.result()
