"""Make the project's CJK font: a subset of Noto Sans CJK TC, TrueType outlines, in
``orchestration/publish/fonts/`` (the chart draws with it on every machine; see that folder's
README.md). Run by hand when the characters the project prints change, never by make:

    .venv/bin/python -m orchestration.maintenance.make_font_subset [--source-dir DIR]

The source is Debian's fonts-noto-cjk (Noto Sans CJK 2.004): the Traditional Chinese face of
``NotoSansCJK-Regular.ttc`` and ``NotoSansCJK-Bold.ttc`` (face 3 of the collection, found by
name; ``--source-dir``, default /usr/share/fonts/opentype/noto). Kept, where the source has
a glyph (the command names the characters it has none for):

- ASCII and Latin-1; CJK symbols and punctuation (U+3000-303F); half- and full-width forms
  (U+FF00-FFEF); Big5's symbols (0xA140-0xA3BF: punctuation, signs, bopomofo);
- Big5's level-1 common characters, 0xA440-0xC67E: the 5,401 frequent hanzi;
- every character of the project's texts (``TEXT_GLOBS``: the code's templates and labels,
  the seeds, the dbt models and the bulletin's text in tests/data), so any product, partner
  or label the project prints is there.

Only the ``kern`` layout feature is kept. The outlines are converted from CFF to TrueType
quadratic curves (fontTools' cu2qu, at most 1/1000 em off: invisible), so PDF libraries that
embed TrueType only (reportlab, fpdf2) can use the file. The family is renamed
``FAMILY`` (the OFL lets a modified version keep the name Noto, not "Source"), so it never
collides with an installed Noto Sans CJK TC. No timestamp changes: the same source, checkout
and fontTools version (4.68.0 made the shipped files) give the same bytes.
"""

from __future__ import annotations

import argparse
import sys
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable
from fontTools.ttLib.ttCollection import TTCollection

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FONT_DIR = PROJECT_ROOT / "orchestration" / "publish" / "fonts"
DEFAULT_SOURCE_DIR = Path("/usr/share/fonts/opentype/noto")

SOURCE_FACE = "Noto Sans CJK TC"  # the face of the collection, by its family name
FAMILY = "Noto Sans CJK TC Bulletin"
POSTSCRIPT_FAMILY = "NotoSansCJKtcBulletin"
# style -> (source collection, file written)
FACES = {
    "Regular": ("NotoSansCJK-Regular.ttc", "NotoSansCJKtc-Bulletin-Regular.ttf"),
    "Bold": ("NotoSansCJK-Bold.ttc", "NotoSansCJKtc-Bulletin-Bold.ttf"),
}
LAYOUT_FEATURES = ["kern"]
MAX_ERROR = 1.0  # font units (1000 an em): cu2qu's tolerance, fontTools' otf2ttf default
TEXT_GLOBS = (
    "orchestration/**/*.py",
    "dbt_project/seeds/*.csv",
    "dbt_project/models/**/*.sql",
    "tests/data/*.txt",  # the bulletin's text (No. 459)
)


def big5(first: int, last: int) -> list[str]:
    """The characters of Big5 codes ``first``..``last`` (lead byte, then trail bytes 0x40-0x7E
    and 0xA1-0xFE), decoded with Python's big5 codec; codes it does not map are skipped."""
    out = []
    for lead in range(first >> 8, (last >> 8) + 1):
        for trail in (*range(0x40, 0x7F), *range(0xA1, 0xFF)):
            if first <= (lead << 8 | trail) <= last:
                try:
                    out.append(bytes((lead, trail)).decode("big5"))
                except UnicodeDecodeError:
                    continue
    return out


def base_characters() -> set[str]:
    ranges = [(0x20, 0x7E), (0xA0, 0xFF), (0x3000, 0x303F), (0xFF00, 0xFFEF)]
    chars = {chr(c) for first, last in ranges for c in range(first, last + 1)}
    chars = {c for c in chars if unicodedata.category(c) != "Cn"}  # assigned code points only
    return chars | set(big5(0xA140, 0xA3BF)) | set(big5(0xA440, 0xC67E))


def text_characters(paths: Iterable[Path]) -> set[str]:
    chars: set[str] = set()
    for path in paths:
        chars |= set(path.read_text(encoding="utf-8"))
    return {c for c in chars if c.isprintable() and not c.isspace() or c == " "}


def project_texts() -> list[Path]:
    return sorted(p for pattern in TEXT_GLOBS for p in PROJECT_ROOT.glob(pattern))


def tc_face(collection: Path) -> TTFont:
    """The Traditional Chinese face of a Noto Sans CJK collection (by family name, not index)."""
    faces = TTCollection(str(collection), lazy=True).fonts
    for index, face in enumerate(faces):
        if face["name"].getDebugName(1) == SOURCE_FACE:
            return TTFont(str(collection), fontNumber=index, recalcTimestamp=False)
    raise SystemExit(f"{collection}: no face named {SOURCE_FACE!r}")


def to_truetype(font: TTFont) -> None:
    """CFF outlines to TrueType (glyf) ones, in place: cu2qu through fontTools' pens."""
    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(None)
        glyph_set[name].draw(Cu2QuPen(pen, MAX_ERROR, reverse_direction=True))
        glyf.glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    font["glyf"] = glyf
    for tag in ("CFF ", "VORG"):  # VORG is for CFF outlines only
        if tag in font:
            del font[tag]
    glyf.compile(font)
    hmtx = font["hmtx"]
    for name in order:  # TrueType wants the left side bearing at the outline's left edge
        hmtx.metrics[name] = (hmtx.metrics[name][0], getattr(glyf.glyphs[name], "xMin", 0))
    maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    maxp.maxZones = 1
    for field in (
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, field, 0)
    font["maxp"] = maxp  # points and contours are counted when the font is saved
    post = font["post"]
    post.formatType = 2.0  # glyph names kept (cid00001...): PostScript and PDF tools use them
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = order
    font["head"].glyphDataFormat = 0
    font.sfntVersion = "\0\1\0\0"


def rename(font: TTFont, style: str) -> None:
    """The subset's own family name; the copyright, licence and designer records are kept."""
    name = font["name"]
    version = name.getDebugName(5)
    postscript = f"{POSTSCRIPT_FAMILY}-{style}"
    records = {
        1: FAMILY,
        2: style,
        3: f"{font['head'].fontRevision:.3f};{postscript}",
        4: FAMILY if style == "Regular" else f"{FAMILY} {style}",
        5: f"{version}; subset by make_font_subset.py (server-bulletin)",
        6: postscript,
    }
    for name_id, text in records.items():
        name.removeNames(nameID=name_id)
        name.setName(text, name_id, 3, 1, 0x409)


def make_face(source: Path, target: Path, characters: set[str]) -> set[str]:
    """Write the subset of ``source``'s TC face to ``target``; returns the characters it lacks."""
    font = tc_face(source)
    cmap = font.getBestCmap()
    missing = {c for c in characters if ord(c) not in cmap}
    options = subset.Options()
    options.layout_features = LAYOUT_FEATURES
    options.name_IDs = ["*"]  # the copyright, trademark, designer and licence records too
    options.name_languages = [0x409]
    options.notdef_outline = True
    options.recalc_timestamp = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(ord(c) for c in characters - missing))
    subsetter.subset(font)
    to_truetype(font)
    rename(font, target.stem.rsplit("-", 1)[-1])
    font.save(str(target))
    return missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source-dir", type=Path, default=DEFAULT_SOURCE_DIR)
    args = parser.parse_args(argv)

    characters = base_characters() | text_characters(project_texts())
    FONT_DIR.mkdir(parents=True, exist_ok=True)
    missing: set[str] = set()
    for style, (source, written) in FACES.items():
        missing |= make_face(args.source_dir / source, FONT_DIR / written, characters)
        print(f"{written}: {(FONT_DIR / written).stat().st_size:,} bytes ({style})")
    if missing:
        print(f"not in {SOURCE_FACE}, left out: {' '.join(sorted(missing))}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
