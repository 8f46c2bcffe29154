"""Vietnamese text → normalised tokens for features and reasons.

Steps, in order: Unicode NFC and mojibake repair (``clean``); lower-case; URLs, e-mails, @mentions,
hashtags, numbers, emoji and emoticons mapped to placeholder tokens; syllable tokenisation; one
tone-mark convention (hoà → hòa, thuỷ → thủy: tone on the first vowel of open oa/oe/uy syllables, the
convention of underthesea's ``text_normalize`` whose 2,900-entry token table is applied too); i/y
variants (quĩ → quỹ); teencode and abbreviations expanded (``ko`` → ``không``, ``bhxh`` → ``bảo hiểm
xã hội``) with the raw token kept in ``extras``; and an accent-folded copy of the tokens.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from classifiers.lexicon import (
    EMOJI_NEGATIVE,
    EMOJI_POSITIVE,
    EMOTICONS_NEGATIVE,
    EMOTICONS_POSITIVE,
    I_Y_VARIANTS,
    JOINED,
    TEENCODE,
)
from classifiers.text import fold, nfc

_MOJIBAKE = re.compile(r"Ã[\u0080-\u00bf]|á[º»]|Æ[°¡]|Ä[\u0080-\u00bf‘’ƒ]")
_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+\.(?:vn|com|net|org|gov\.vn)(?:/\S*)?\b")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.]+\b")
_MENTION = re.compile(r"(?<!\w)@\w+")
_HASHTAG = re.compile(r"(?<!\w)#(\w+)")
_EMOTICON = re.compile(
    "|".join(re.escape(e) for e in sorted(EMOTICONS_NEGATIVE + EMOTICONS_POSITIVE, key=len, reverse=True))
)
_EMOTICON_CLASS = {e: "emoneg" for e in EMOTICONS_NEGATIVE} | {e: "emopos" for e in EMOTICONS_POSITIVE}
_PICTOGRAPH = "\U0001F300-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u2764"
_TOKEN = re.compile(rf"[^\W_]+(?:[.,][0-9]+)*%?|[{_PICTOGRAPH}]")
_TONES = "\u0300\u0301\u0303\u0309\u0323"
_OLD_STYLE = re.compile(r"^([bcdđghklmnprstvx]*)(oa|oe|uy)$")


@dataclass(frozen=True)
class Normalized:
    tokens: list[str]  # lower-case, NFC, one tone convention, teencode expanded
    folded: list[str]  # the same tokens without diacritics
    extras: list[str]  # raw teencode/abbreviation tokens and emoji classes


def clean(text: str | None) -> str:
    """NFC, ð → đ, and mojibake (UTF-8 read as Latin-1/cp1252) repaired; for display and features."""
    text = nfc(text).replace("ð", "đ").replace("Ð", "Đ")
    if _MOJIBAKE.search(text):
        import ftfy  # only for damaged text: the import and the repair are slow

        text = nfc(ftfy.fix_text(text))
    return text


@lru_cache(maxsize=1)
def _tone_table() -> dict[str, str]:
    try:
        from underthesea.pipeline.text_normalize.text_normalizer import token_map
    except ImportError:  # pragma: no cover - underthesea is a dependency; the rule still applies
        return {}
    return dict(token_map)


@lru_cache(maxsize=65536)
def canonical_syllable(token: str) -> str:
    """One spelling for a lower-case syllable: tone placement (hoà → hòa) and i/y variants."""
    token = I_Y_VARIANTS.get(token, token)
    if not token.startswith("q"):
        decomposed = unicodedata.normalize("NFD", token)
        tones = [ch for ch in decomposed if ch in _TONES]
        if len(tones) == 1:
            base = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONES))
            match = _OLD_STYLE.match(base)
            if match:
                i = len(match.group(1))
                token = base[:i] + unicodedata.normalize("NFC", base[i] + tones[0]) + base[i + 1:]
    return _tone_table().get(token, token)


def _placeholders(text: str) -> str:
    text = _URL.sub(" urltok ", text)
    text = _EMAIL.sub(" emailtok ", text)
    text = _MENTION.sub(" mentiontok ", text)
    text = _HASHTAG.sub(lambda m: f" hashtagtok {m.group(1)} ", text)
    return _EMOTICON.sub(lambda m: f" {_EMOTICON_CLASS[m.group(0)]} ", text)


def _number(token: str) -> str:
    if token.endswith("%"):
        return "pcttok"
    # Small numbers carry meaning ("rút BHXH 1 lần"); years, amounts and codes do not.
    return token if len(token) <= 2 and token.isdigit() else "numtok"


def normalize(text: str | None) -> Normalized:
    """Normalise one text (see the module docstring)."""
    raw = _TOKEN.findall(_placeholders(clean(text).lower()))
    tokens: list[str] = []
    extras: list[str] = []
    i = 0
    while i < len(raw):
        token = raw[i]
        if i + 1 < len(raw) and (token, raw[i + 1]) in JOINED:
            token = JOINED[(token, raw[i + 1])]
            i += 1
        i += 1
        if token[0].isdigit():
            tokens.append(_number(token))
            continue
        if len(token) == 1 and not token.isalnum():
            cls = "emoneg" if token in EMOJI_NEGATIVE else "emopos" if token in EMOJI_POSITIVE else "emojitok"
            tokens.append(cls)
            extras.append(cls)
            continue
        expansion = TEENCODE.get(token)
        if expansion and expansion != token:
            extras.append(token)
            tokens.extend(expansion.split())
        else:
            tokens.append(canonical_syllable(token))
    return Normalized(tokens, [fold(t) for t in tokens], extras)


def feature_strings(text: str | None) -> tuple[str, str, str]:
    """(tokens, folded tokens, extras) as space-joined strings, the vectorizers' input."""
    n = normalize(text)
    return " ".join(n.tokens), " ".join(n.folded), " ".join(n.extras)
