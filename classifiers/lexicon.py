"""Small hand-written Vietnamese lexicons for normalisation: teencode and abbreviations, i/y spelling
variants, and emoji/emoticon classes. Data only; ``classifiers.normalize`` applies them.

Entries are lower-case. Expansions may be several syllables; the raw token is kept as a feature too
(``bh`` is ambiguous: bây giờ, bao giờ, bảo hiểm).
"""

from __future__ import annotations

# Teencode and chat abbreviations (VIETNAMESE.md lists the common ones).
TEENCODE: dict[str, str] = {
    "ko": "không", "k": "không", "kh": "không", "khong": "không", "hok": "không", "hông": "không",
    "hem": "không", "khg": "không", "kg": "không", "k0": "không", "hk": "không",
    "dc": "được", "đc": "được", "dk": "được", "đk": "được", "duoc": "được",
    "j": "gì", "gi": "gì", "mik": "mình", "mk": "mình", "mn": "mọi người", "mng": "mọi người",
    "vs": "với", "cx": "cũng", "cg": "cũng", "z": "vậy", "v": "vậy", "zậy": "vậy", "dzậy": "vậy",
    "r": "rồi", "rùi": "rồi", "ròi": "rồi", "bn": "bao nhiêu", "bnh": "bao nhiêu",
    "ng": "người", "ngta": "người ta", "nc": "nước", "ntn": "như thế nào",
    "tn": "tin nhắn", "sdt": "số điện thoại", "sđt": "số điện thoại", "đt": "điện thoại",
    "ck": "chuyển khoản", "tk": "tài khoản", "stk": "số tài khoản",
    "lq": "liên quan", "ae": "anh em", "a": "anh", "e": "em", "c": "chị", "ad": "quản trị viên",
    "bít": "biết", "bik": "biết", "wa": "quá", "qá": "quá", "thik": "thích",
    "trc": "trước", "ms": "mới", "hnay": "hôm nay", "hqua": "hôm qua",
    "lm": "làm", "ns": "nói", "nch": "nói chuyện", "thui": "thôi", "hix": "buồn", "huhu": "buồn",
    "hjc": "buồn", "tks": "cảm ơn", "thanks": "cảm ơn", "cám": "cảm", "ok": "đồng ý", "oke": "đồng ý",
    "okie": "đồng ý", "đag": "đang", "dag": "đang", "đg": "đang", "chx": "chưa", "cj": "chị",
    "lquan": "liên quan", "cty": "công ty", "dn": "doanh nghiệp", "nld": "người lao động",
    "nlđ": "người lao động", "ntd": "người tiêu dùng", "cq": "cơ quan", "cqnn": "cơ quan nhà nước",
    "tp": "thành phố", "tphcm": "thành phố hồ chí minh", "hcm": "hồ chí minh", "hn": "hà nội",
    "bh": "bảo hiểm",
    # Domain abbreviations.
    "bhxh": "bảo hiểm xã hội", "bhyt": "bảo hiểm y tế", "bhtn": "bảo hiểm thất nghiệp",
    "bhxhvn": "bảo hiểm xã hội việt nam", "bhxhtn": "bảo hiểm xã hội tự nguyện",
    "tnlđ": "tai nạn lao động", "tnld": "tai nạn lao động", "bnn": "bệnh nghề nghiệp",
    "kcb": "khám chữa bệnh", "csyt": "cơ sở y tế", "ldtbxh": "lao động thương binh xã hội",
    "lđtbxh": "lao động thương binh xã hội", "vssid": "vssid",
    "nđ": "nghị định", "nđ-cp": "nghị định", "qđ": "quyết định",
}

# Multi-token abbreviations written with a space ("BH XH") are joined before the table applies.
JOINED: dict[tuple[str, str], str] = {
    ("bh", "xh"): "bhxh", ("bh", "yt"): "bhyt", ("bh", "tn"): "bhtn",
}

# i/y spelling variants: one canonical form for features (quĩ/quỹ, kĩ/kỹ, lí/lý).
I_Y_VARIANTS: dict[str, str] = {
    "quĩ": "quỹ", "kĩ": "kỹ", "lí": "lý", "mĩ": "mỹ", "kí": "ký", "tỉ": "tỷ", "sỹ": "sĩ",
    "hi": "hy", "qui": "quy", "quí": "quý", "quì": "quỳ", "quị": "quỵ", "qũy": "quỹ",
}

# Emoji and emoticons mapped to sentiment-class tokens; any other pictograph becomes "emojitok".
EMOJI_NEGATIVE = set("😡😠🤬😤👎😭😢😞😔😩😫💢😒🙄😑😓😰😱🤮😣☹😟😕")
EMOJI_POSITIVE = set("😍👍❤💕😊😀😁😂🤣😄😃🥰😘🙏👏💯✅🎉😆☺🤗💖💗♥")
EMOTICONS_NEGATIVE = (":((", ":(", ":-(", ":'(", "=((", "=(", ":<", "-_-", "-.-", ">:(", ":@")
EMOTICONS_POSITIVE = (":))", ":)", ":-)", ":d", "=))", "=)", "^^", "^_^", ":>", "<3", "xd", ";)")
