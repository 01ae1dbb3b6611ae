"""The large-file path: a Big5 (CP950) download of gigabytes read by DuckDB's parallel reader.

Only the customs export runs to millions of rows. DuckDB reads UTF-8 and Latin-1 but not Big5
(its ``encodings`` extension is downloaded on first use, so it is not there), and transcoding
the whole file first (glibc's iconv, Python's codec) costs about as much as DuckDB's whole
read. But the Big5 text of such a file is in a few columns of few distinct values (flows,
months, countries, product names), and every byte of Big5 is one character of Latin-1, in
which a comma, a quote and a line break are what they are (no byte of a Big5 character is one
of them). So DuckDB reads the file as Latin-1 (:data:`LATIN1`) and the text is made from the
values, each decoded once by Python's cp950 codec (:class:`Big5Columns`): the text columns
are looked up as the rows are read (the values of lines sampled across the file go into a
small hash table, passed to the query as lists: a row's value is compared with the value in
its slots, found by DuckDB's ``hash``; a product's long name is looked up by its HS code and
taken where it is the name sampled with that code; any other value is marked), and what the
lookups left is decoded afterwards, once per distinct value, with an ``UPDATE`` of the rows
that hold one (:meth:`Big5Columns.fix_missed`): the marked values, and the English names,
loaded as read, which are ASCII but for a rare one. The text is therefore always Python's.
When anything is amiss (a value that is not Big5, a line that is not a row), the file is
transcoded by Python's codec (:func:`transcode_with_python`) and read by the exact path, which
names the fault.
"""

from __future__ import annotations

import codecs
import collections
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
    values that are Big5 and their texts go into a small hash table, passed to the query as
    two lists (:meth:`params`); :meth:`sql` is the text where the row's value is the one in its
    slot. A ``keyed`` column (name: (field, key column, key field)), whose long values go with a
    short key (a product's name with its HS code), is placed by its key instead: the value
    sampled most often with that key. Either way a row gets a text only where its own value is
    the value that text was decoded from; any other value is marked with :data:`MISSED`, for
    :meth:`fix_missed`.

    Each value has two slots (DuckDB's ``hash`` of its key, the low and the high 32 bits, in a
    table of at least four slots a value: cuckoo hashing), so a lookup is a hash, at most two
    comparisons and a list element: it never fails. (A cast to an ``ENUM`` of the sampled
    values, the former lookup, made an error message of the whole type for every row whose
    value the samples had missed, before TRY_CAST threw it away: 1.1 CPU seconds for the 1.3 %
    of rows of 2 M whose HS code was not sampled.)
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        rows: list[list[str]],
        columns: dict[str, int],
        keyed: dict[str, tuple[int, str, int]] | None = None,
    ) -> None:
        self.params_: dict[str, list] = {}
        self.keys: dict[str, str] = {}
        self.slots: dict[str, int] = {}
        tables: dict[str, list[tuple[str, str, str]]] = {}  # name: (key, value, text)
        for name, index in columns.items():
            values = sorted({row[index] for row in rows})
            tables[name] = [(v, v, t) for v in values if (t := big5_text(v)) is not None and not t.startswith(MISSED)]
        for name, (index, key_column, key_index) in (keyed or {}).items():
            seen: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
            for row in rows:
                seen[row[key_index]][row[index]] += 1
            tables[name] = []
            for key in sorted(seen):
                value = seen[key].most_common(1)[0][0]
                text = big5_text(value)
                if text is not None and not text.startswith(MISSED):
                    tables[name].append((key, value, text))
            self.keys[name] = key_column
        for name, entries in tables.items():
            if entries:
                self._table(con, name, entries)

    def _table(self, con: duckdb.DuckDBPyConnection, name: str, entries: list[tuple[str, str, str]]) -> None:
        keys = [k for k, _, _ in entries]
        hashes = con.execute("SELECT list_transform($k::VARCHAR[], lambda k: hash(k))", {"k": keys}).fetchall()[0][0]
        size = 16
        while size < 4 * len(entries):
            size *= 2
        slots = [0] * size  # the entry's position (from 1) in each slot; 0: empty
        for i in range(1, len(entries) + 1):
            entry, at = i, hashes[i - 1] % size
            for _ in range(64):  # a value still without a slot after that is left out: missed
                if not slots[at]:
                    slots[at] = entry
                    break
                slots[at], entry = entry, slots[at]
                h = hashes[entry - 1]
                at = (h >> 32) % size if at == h % size else h % size
        self.slots[name] = size
        self.params_[f"{name}_slots"] = slots
        self.params_[f"{name}_values"] = [v for _, v, _ in entries]
        self.params_[f"{name}_texts"] = [t for _, _, t in entries]

    def sql(self, name: str, column: str) -> str:
        """SQL: the text of ``column`` (``name`` in the samples), or its value marked as missed.

        The lists of values and texts are as long as the entries, and each is named once or
        twice: DuckDB makes a list parameter into a vector for every chunk of 2,048 rows, so a
        list's length costs per chunk (the slots, integers, cost little)."""
        marked = f"(chr({ord(MISSED)}) || {column})"
        if name not in self.slots:
            return marked
        key, size = self.keys.get(name, column), self.slots[name]
        low, high = (f"${name}_slots[(({h}) % {size})::BIGINT + 1]" for h in (f"hash({key})", f"hash({key}) >> 32"))
        values = f"${name}_values"
        entry = f"CASE WHEN {column} = {values}[{low}] THEN {low} WHEN {column} = {values}[{high}] THEN {high} END"
        return f"coalesce(${name}_texts[{entry}], {marked})"

    def params(self) -> dict[str, list]:
        return dict(self.params_)

    def fix_missed(
        self,
        con: duckdb.DuckDBPyConnection,
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
        found = con.execute(f"SELECT {lists} FROM {table} WHERE {where}", params).fetchall()[0]
        for column, values in zip(columns, found, strict=True):
            if column in looked_up:
                pairs = [(v, big5_text(v[len(MISSED) :])) for v in values or () if v.startswith(MISSED)]
            else:
                pairs = [(v, big5_text(v)) for v in values or () if not v.isascii()]
            if not pairs:
                continue
            if any(t is None or t.startswith(MISSED) for _, t in pairs):
                return False
            con.execute(
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
