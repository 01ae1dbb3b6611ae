"""The one number check every source's values pass, and the words of its two faults.

A value is digits with optional decimals (``1040``, ``1040.5``). Sources that group
thousands write ``1,040`` (groups of three: ``1,2x`` or ``12,34`` are no number), and the
separators are dropped. A lone ``-`` (or an empty cell) is no value where the source says so.
A minus before a number is refused as negative; anything else as not a number:

    value "<as written>" <where> is negative<detail>
    value "<as written>" <where> is not a number<detail>

``<where>`` places the value (``in 美元(千元)``, ``for March 2016``); ``<detail>`` is the
source's own addition (``; trade values cannot be``, the cell of a sheet). The text sources
check in SQL, as :class:`RowCheck`\\ s over their parsed table (:func:`value_checks`); the MOEA
workbook reader checks cell by cell in Python (:func:`number`, :func:`is_negative` and the
two message functions): both forms are built from the same patterns and words here.
"""

from __future__ import annotations

import re

from .checks import RowCheck

# Digits, optional decimals: 1040, 1040.5.
PLAIN = r"[0-9]+(\.[0-9]+)?"
# Thousands grouped by three: 1,040 and 1,040.5.
GROUPED = r"[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?"
# What a trade value's negative fault adds.
TRADE_VALUES = "; trade values cannot be"
NEGATIVE = "is negative"
NOT_A_NUMBER = "is not a number"

# Either way of writing a number, as the Python check reads text.
NUMBER = re.compile(rf"^(?:{GROUPED}|{PLAIN})$")


# ---------------------------------------------------------------- in SQL, over a parsed table


def is_number_sql(text: str) -> str:
    """SQL: ``text`` is a number of digits (separators already dropped)."""
    return f"regexp_full_match({text}, '{PLAIN}')"


def has_value_sql(text: str) -> str:
    """SQL: ``text`` holds a value: neither empty nor a lone ``-`` (no value)."""
    return f"trim({text}) NOT IN ('', '-')"


def value_text_sql(text: str) -> str:
    """SQL: ``text`` trimmed, its thousands separators dropped when it groups them (``1,234``)."""
    return (
        f"CASE WHEN regexp_full_match(trim({text}), '{GROUPED}') "
        f"THEN replace(trim({text}), ',', '') ELSE trim({text}) END"
    )


def _message_sql(value: str, where: str, verdict: str, detail: str) -> str:
    words = f" {verdict}{detail}".replace("'", "''")
    return f"""'value "' || {value} || '" ' || {where} || '{words}'"""


def value_checks(value: str, where: str, *, any_minus: bool = False) -> list[RowCheck]:
    """The row checks of the value column ``value`` (text, trimmed, separators dropped).

    First negative, then not a number. ``where`` is SQL text placing the value in the
    message (``'in 美元(千元)'``, ``'for ' || period_label``). A minus counts as negative
    before a number; with ``any_minus``, every value that starts with one does (GTA and ITC,
    whose lone ``-`` is no value and was left out before the checks).
    """
    shown = f"coalesce({value}, '')"
    negative = f"{value} LIKE '-%'"
    if not any_minus:
        negative += f" AND {is_number_sql(f'substr({value}, 2)')}"
    return [
        RowCheck(negative, _message_sql(shown, where, NEGATIVE, TRADE_VALUES)),
        RowCheck(f"NOT {is_number_sql(shown)}", _message_sql(shown, where, NOT_A_NUMBER, "")),
    ]


# ---------------------------------------------------------------- in Python, cell by cell


def number(text: str) -> float | None:
    """The number ``text`` writes (digits, perhaps grouped by thousands), or None when it is none."""
    return float(text.replace(",", "")) if NUMBER.match(text) else None


def is_negative(text: str, minus_signs: frozenset[str] | set[str] = frozenset("-")) -> bool:
    """``text`` is a minus sign (any of ``minus_signs``) before a number."""
    return text[:1] in minus_signs and NUMBER.match(text[1:]) is not None


def negative_message(shown: str, where: str, detail: str = "") -> str:
    return f'value "{shown}" {where} {NEGATIVE}{detail}'


def not_a_number_message(shown: str, where: str, detail: str = "") -> str:
    return f'value "{shown}" {where} {NOT_A_NUMBER}{detail}'
