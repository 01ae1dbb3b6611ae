"""A stand-in for the two APIs, on 127.0.0.1: answers in their documented formats, and faults on demand.

``StandIn`` serves the Census Bureau's ``/data/timeseries/intltrade/imports/hs`` and UN
Comtrade's ``/data/v1/get/C/A/HS`` and ``/public/v1/preview/C/A/HS`` (the shapes of
``tests/data/api/``) from tables a test gives it, and records every request. A test can queue
faults for the next requests of a path (``fail``): a status (429, 500 …), an HTML page, a body
cut short (a ``Content-Length`` larger than what is sent), JSON cut in the middle.
No test reaches the internet: every base URL is this server's.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

CENSUS_PATH = "/data/timeseries/intltrade/imports/hs"
COMTRADE_PATHS = ("/data/v1/get/C/A/HS", "/public/v1/preview/C/A/HS")
CENSUS_HEADER = ["CTY_CODE", "CTY_NAME", "GEN_VAL_MO", "I_COMMODITY", "COMM_LVL", "time"]
HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>Invalid Key</title></head><body><p>A valid <em>key</em> "
    b"must be included with each data API request.</p></body></html>"
)


@dataclass
class Fault:
    """What to answer instead of the data: ``status`` with ``body``, or the body cut (``cut``)."""

    status: int = 200
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    cut: bool = False  # Content-Length says more than is sent: the connection closes early


@dataclass
class Request:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw_path: str


class StandIn:
    """The stand-in server. ``census[(hs, 'YYYY-MM')] = [(cty_code, cty_name, value), …]`` and
    ``comtrade[(hs, year)] = [(reporter_code, iso, desc, value), …]`` are its data."""

    def __init__(self) -> None:
        self.census: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
        self.comtrade: dict[tuple[str, int], list[tuple[int, str, str, float]]] = {}
        self.requests: list[Request] = []
        self.faults: dict[str, list[Fault]] = defaultdict(list)
        self.census_key: str | None = None  # when set, a request without it gets the HTML page
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                stand_in._serve(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> StandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail(self, path: str, *faults: Fault) -> None:
        """Answer the next requests of ``path`` with ``faults``, one each, then the data again."""
        self.faults[path].extend(faults)

    def asked(self, path: str | None = None) -> list[Request]:
        return [r for r in self.requests if path is None or r.path == path]

    # --- the answers --------------------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        self.requests.append(Request(parts.path, query, dict(handler.headers), handler.path))
        if self.faults.get(parts.path):
            fault = self.faults[parts.path].pop(0)
            if fault.body is not None or fault.status != 200 or fault.cut:
                self._send(handler, fault.status, fault.body or b"", fault.headers, cut=fault.cut)
                return
        if parts.path == CENSUS_PATH:
            if self.census_key is not None and query.get("key") != self.census_key:
                self._send(handler, 200, HTML_PAGE, {"Content-Type": "text/html"})
                return
            status, body = self.census_answer(query)
        elif parts.path in COMTRADE_PATHS:
            status, body = self.comtrade_answer(query)
        else:
            status, body = 404, b'{"error": "not found"}'
        self._send(handler, status, body, {"Content-Type": "application/json;charset=utf-8"})

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict, cut: bool = False) -> None:
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        length = len(body) * 2 + 100 if cut else len(body)
        if status != 204:
            handler.send_header("Content-Length", str(length))
        handler.send_header("Connection", "close")
        handler.end_headers()
        if status != 204:
            handler.wfile.write(body)
        handler.wfile.flush()
        handler.close_connection = True

    def census_answer(self, query: dict[str, str]) -> tuple[int, bytes]:
        """As the API answers: the variables asked for (get=), then the predicates echoed, a row
        a partner and month of the asked months, header first; 204 when there are none."""
        hs = query.get("I_COMMODITY", "")
        asked = query.get("get", ",".join(CENSUS_HEADER[:3])).split(",")
        header = [*asked, *(k for k in query if k not in ("get", "key"))]
        rows = []
        for month in _census_months(query.get("time", "")):
            for code, name, value in self.census.get((hs, month), []):
                known = {"CTY_CODE": code, "CTY_NAME": name, "GEN_VAL_MO": value, "I_COMMODITY": hs,
                         "COMM_LVL": query.get("COMM_LVL", "HS6"), "time": month}
                rows.append([known.get(name_, "") for name_ in header])
        if not rows:
            return 204, b""
        lines = [json.dumps(header, separators=(",", ":"))] + [
            json.dumps(r, separators=(",", ":"), ensure_ascii=False) for r in rows
        ]
        # The API writes a row a line: "[[…],\n[…],\n…]".
        return 200, ("[" + ",\n".join(lines) + "]").encode()

    def comtrade_answer(self, query: dict[str, str]) -> tuple[int, bytes]:
        hs = query.get("cmdCode", "")
        records = []
        for period in query.get("period", "").split(","):
            if not period.isdigit():
                continue
            for code, iso, desc, value in self.comtrade.get((hs, int(period)), []):
                records.append(comtrade_record(code, iso, desc, hs, int(period), value))
        body = {"elements": None, "count": len(records), "data": records}
        return 200, json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def comtrade_record(code: int, iso: str, desc: str, hs: str, year: int, value: float | None) -> dict:
    """A record of the v1 answer, with its fields in the API's order."""
    return {
        "typeCode": "C", "freqCode": "A", "refPeriodId": int(f"{year}0101"), "refYear": year, "refMonth": 52,
        "period": str(year), "reporterCode": code, "reporterISO": iso, "reporterDesc": desc,
        "flowCode": "X", "flowDesc": "Export", "partnerCode": 0, "partnerISO": "W00", "partnerDesc": "World",
        "partner2Code": 0, "partner2ISO": "W00", "partner2Desc": "World", "classificationCode": "H6",
        "classificationSearchCode": "HS", "isOriginalClassification": True, "cmdCode": hs,
        "cmdDesc": "Automatic data processing machines; processing units", "aggrLevel": 6, "isLeaf": True,
        "customsCode": "C00", "customsDesc": "TOTAL CPC", "mosCode": "0", "motCode": 0, "motDesc": "TOTAL MOT",
        "qtyUnitCode": 5, "qtyUnitAbbr": "u", "qty": 0, "isQtyEstimated": False, "altQtyUnitCode": 8,
        "altQtyUnitAbbr": "kg", "altQty": 0, "isAltQtyEstimated": False, "netWgt": 0, "isNetWgtEstimated": False,
        "grossWgt": 0, "isGrossWgtEstimated": False, "cifvalue": None, "fobvalue": value, "primaryValue": value,
        "legacyEstimationFlag": 0, "isReported": True, "isAggregate": code == 97,
    }


def _census_months(time: str) -> Iterator[str]:
    """The months of a time predicate: ``2024-09`` or ``from 2016-01 to 2016-12``."""
    words = time.split()
    if len(words) == 1:
        yield words[0]
        return
    if len(words) != 4 or words[0] != "from" or words[2] != "to":
        return
    year, month = map(int, words[1].split("-"))
    end = tuple(map(int, words[3].split("-")))
    while (year, month) <= end:
        yield f"{year}-{month:02d}"
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
