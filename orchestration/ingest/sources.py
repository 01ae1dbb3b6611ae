"""The registry of sources: every source's spec and parser, in the order the pipeline loads them.

The one place that lists the sources. A source is its parser module, which defines its
:class:`~.spec.SourceSpec` as ``SPEC`` and reads its downloads (``parse``, or ``insert`` for
large downloads read straight into the table). The last two are the APIs the fetch job asks
(``census``, ``comtrade``): optional, an exhibit reads them only when switched to them.
"""

from __future__ import annotations

from types import ModuleType

from . import census, comtrade, customs, gta, itc, moea
from .spec import SourceSpec

PARSERS: dict[str, ModuleType] = {m.SPEC.source: m for m in (customs, gta, itc, moea, census, comtrade)}
SPECS: dict[str, SourceSpec] = {source: parser.SPEC for source, parser in PARSERS.items()}
