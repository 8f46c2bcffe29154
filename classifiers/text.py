"""Vietnamese text primitives shared by every stage: Unicode NFC and accent folding.

``fold`` is what makes matching diacritics-insensitive (prefilter keywords, search, rumour matching):
"Bảo hiểm xã hội", "bao hiem xa hoi" and NFD-decomposed input all fold to "bao hiem xa hoi".
"""

from __future__ import annotations

import re
import unicodedata

_FOLD_EXTRA = str.maketrans({"đ": "d", "Đ": "d", "ð": "d"})


def nfc(text: str | None) -> str:
    """Unicode NFC (feeds arrive precomposed, decomposed, or mixed)."""
    return unicodedata.normalize("NFC", text or "")


def _fold_by_normalising(text: str | None) -> str:
    decomposed = unicodedata.normalize("NFD", (text or "").translate(_FOLD_EXTRA).lower())
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", stripped).translate(_FOLD_EXTRA)


def _build_fold_table() -> dict[int, str]:
    ranges = [(0x0000, 0x0250), (0x0300, 0x0370), (0x1E00, 0x1F00), (0x2000, 0x2070)]
    return {cp: _fold_by_normalising(chr(cp)) for start, end in ranges for cp in range(start, end)}


_FOLD_TABLE = _build_fold_table()
_OUTSIDE_FOLD_TABLE = re.compile(r"[^\u0000-\u024f\u0300-\u036f\u1e00-\u1eff\u2000-\u206f]")


def fold(text: str | None) -> str:
    """Lower-case and strip Vietnamese diacritics (đ → d), keeping everything else.

    Latin and Vietnamese text (precomposed or decomposed) goes character by character through a
    table, several times faster than normalising (this runs on every stored item); text with other
    scripts takes the normalising path, which gives the same result.
    """
    if not text:
        return ""
    if _OUTSIDE_FOLD_TABLE.search(text):
        return _fold_by_normalising(text)
    return text.translate(_FOLD_TABLE)
