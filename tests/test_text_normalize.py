"""Vietnamese normalisation: NFC/NFD, mojibake, tone placement, i/y variants, teencode, placeholders."""

from __future__ import annotations

import unicodedata

import pytest

from classifiers.normalize import canonical_syllable, clean, feature_strings, normalize
from classifiers.text import fold, nfc


def test_nfd_and_nfc_give_the_same_tokens():
    text = "Bảo hiểm xã hội chậm chi trả lương hưu, người dân bức xúc"
    assert normalize(unicodedata.normalize("NFD", text)) == normalize(unicodedata.normalize("NFC", text))


def test_mojibake_is_repaired():
    broken = "Bảo hiểm xã hội".encode("utf-8").decode("latin-1")
    assert broken != "Bảo hiểm xã hội"
    assert clean(broken) == "Bảo hiểm xã hội"


def test_uppercase_vietnamese_is_not_mistaken_for_mojibake():
    assert clean("BẢO HIỂM XÃ HỘI") == "BẢO HIỂM XÃ HỘI"


@pytest.mark.parametrize("new, old", [("hoà", "hòa"), ("thuỷ", "thủy"), ("khoẻ", "khỏe"), ("tuỳ", "tùy"),
                                       ("uỷ", "ủy"), ("xoá", "xóa"), ("loè", "lòe")])
def test_one_tone_placement_convention(new, old):
    assert canonical_syllable(new) == old
    assert canonical_syllable(old) == old


@pytest.mark.parametrize("word", ["hoàng", "quý", "quà", "thuyền", "khoán"])
def test_closed_and_qu_syllables_keep_their_tone(word):
    assert canonical_syllable(word) == word


@pytest.mark.parametrize("variant, canonical", [("quĩ", "quỹ"), ("kĩ", "kỹ"), ("lí", "lý")])
def test_i_y_variants(variant, canonical):
    assert normalize(f"{variant} bảo hiểm").tokens[0] == canonical


def test_teencode_is_expanded_and_the_raw_token_kept():
    n = normalize("ko dc rut bhxh 1 lan a")
    assert n.tokens[:4] == ["không", "được", "rut", "bảo"]
    assert {"ko", "dc", "bhxh"} <= set(n.extras)
    assert "1" in n.tokens  # small numbers carry meaning ("1 lần")


def test_spaced_abbreviation_is_joined():
    assert " ".join(normalize("nợ BH XH").tokens) == "nợ bảo hiểm xã hội"


def test_placeholders_for_urls_mentions_hashtags_numbers_and_emoji():
    tokens, _folded, extras = feature_strings("Xem https://example.vn/a?b=1 @ban #BHXH 2.500.000 đồng 15% 😡 :(")
    assert tokens.split() == ["xem", "urltok", "mentiontok", "hashtagtok", "bảo", "hiểm", "xã", "hội",
                              "numtok", "đồng", "pcttok", "emoneg", "emoneg"]
    assert "emoneg" in extras.split()


def test_folded_copy_matches_text_typed_without_diacritics():
    accented = normalize("Lương hưu tháng này về trễ")
    stripped = normalize("luong huu thang nay ve tre")
    assert accented.folded == stripped.folded


def test_shared_primitives_keep_their_behaviour():
    assert fold("Bảo Hiểm Xã Hội, ĐÓNG") == "bao hiem xa hoi, dong"
    assert nfc(unicodedata.normalize("NFD", "hội")) == "hội"
    assert nfc(None) == ""


def test_fold_table_path_matches_normalising_path():
    import unicodedata

    from classifiers.text import _fold_by_normalising, fold

    samples = ["Bảo hiểm xã hội", "BẢO HIỂM Y TẾ", "Đồng Nai – “thẻ BHYT”", "thuỷ / thủy, quĩ / quỹ",
               "Hòa An 😀 ✓", "Лукашенко và BHXH", "ð ĐƯỜNG"]
    for text in samples + [unicodedata.normalize("NFD", t) for t in samples]:
        assert fold(text) == _fold_by_normalising(text), text
    assert fold(unicodedata.normalize("NFD", "bảo hiểm")) == fold("bảo hiểm") == "bao hiem"
