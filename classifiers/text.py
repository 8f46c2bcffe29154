"""Vietnamese text primitives shared by every stage: Unicode NFC and accent folding.

``fold`` is what makes matching diacritics-insensitive (prefilter keywords, search, rumour matching):
"Bảo hiểm xã hội", "bao hiem xa hoi" and NFD-decomposed input all fold to "bao hiem xa hoi".
"""

from __future__ import annotations

import unicodedata

_FOLD_EXTRA = str.maketrans({"đ": "d", "Đ": "d", "ð": "d"})


def nfc(text: str | None) -> str:
    """Unicode NFC (feeds arrive precomposed, decomposed, or mixed)."""
    return unicodedata.normalize("NFC", text or "")


def fold(text: str | None) -> str:
    """Lower-case and strip Vietnamese diacritics (đ → d), keeping everything else."""
    decomposed = unicodedata.normalize("NFD", (text or "").translate(_FOLD_EXTRA).lower())
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", stripped).translate(_FOLD_EXTRA)
