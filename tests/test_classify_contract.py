"""The classify contract with the shipped artifact: keys, order, malformed lines, normalisation
invariance, and the rules for items that are not relevant."""

from __future__ import annotations

import json
import unicodedata

import pytest
from click.testing import CliRunner

from classifiers.artifact import SHIPPED
from classifiers.cli import classify_command, classify_lines
from classifiers.corpus import CATEGORIES
from classifiers.model import CONTRACT_KEYS, Prediction, load_classifier

ITEMS = [
    {"id": "a", "title": "Công ty nợ bảo hiểm xã hội hai năm, hàng trăm công nhân không chốt được sổ"},
    {"id": "b", "title": "Giá vàng hôm nay tăng mạnh", "snippet": "Vàng miếng lên đỉnh mới."},
    {"id": "c", "title": "Cảnh báo giả danh cán bộ BHXH gọi điện lừa cài ứng dụng",
     "text": "Cơ quan BHXH khuyến cáo người dân không cung cấp mã OTP."},
]


@pytest.fixture(scope="module")
def clf():
    return load_classifier(SHIPPED)


def test_shipped_artifact_loads(clf):
    assert SHIPPED.stat().st_size < 8_000_000
    assert clf.version.count("-") == 1 and clf.version[:4].isdigit()
    assert 0 < clf.thresholds["relevance"] < 1


def test_predictions_follow_the_contract(clf):
    predictions = clf.predict(ITEMS)
    assert [p.id for p in predictions] == ["a", "b", "c"]
    for p in predictions:
        contract = p.as_contract()
        assert tuple(contract) == CONTRACT_KEYS
        assert p.sentiment in ("negative", "neutral", "positive")
        assert set(p.sentiment_scores) == {"negative", "neutral", "positive"}
        assert abs(sum(p.sentiment_scores.values()) - 1) < 1e-3
        assert p.category in CATEGORIES
        assert 0 <= p.relevance <= 1 and 0 <= p.misleading_score <= 1 and p.uncertainty >= 0
        assert p.model_version == clf.version
        assert all(isinstance(r, str) and r for r in p.reasons)
        json.dumps(contract, ensure_ascii=False)


def test_obvious_items(clf):
    debt, gold, scam = clf.predict(ITEMS)
    assert debt.relevant and debt.sentiment == "negative" and debt.category == "contribution_debt_evasion"
    assert scam.relevant and scam.category == "fraud_scam_impersonation"
    assert not gold.relevant


def test_not_relevant_items_are_neutral_and_not_misleading(clf):
    gold = clf.predict([ITEMS[1]])[0]
    assert (gold.sentiment, gold.misleading, gold.category) == ("neutral", False, "not_relevant")


def test_reasons_are_vietnamese_terms_from_the_item(clf):
    debt = clf.predict([ITEMS[0]])[0]
    assert debt.reasons
    assert any(word in " ".join(debt.reasons) for word in ("nợ", "bảo hiểm", "chốt", "sổ", "công nhân"))
    assert not any("tok" in r for r in debt.reasons)


def _same(a: Prediction, b: Prediction) -> None:
    assert a.as_contract() | {"id": None} == b.as_contract() | {"id": None}


def test_nfc_and_nfd_input_give_the_same_prediction(clf):
    nfc = {"id": 1, "title": "Người dân bức xúc vì thẻ bảo hiểm y tế bị lỗi, không khám được"}
    nfd = {"id": 1, "title": unicodedata.normalize("NFD", nfc["title"])}
    assert nfd["title"] != nfc["title"]
    _same(*clf.predict([nfc, nfd]))


def test_old_and_new_tone_placement_give_the_same_prediction(clf):
    old = {"id": 1, "title": "Thủy lợi hòa vốn, sức khỏe người lao động và bảo hiểm y tế"}
    new = {"id": 1, "title": "Thuỷ lợi hoà vốn, sức khoẻ người lao động và bảo hiểm y tế"}
    _same(*clf.predict([old, new]))


def test_teencode_and_missing_diacritics_are_understood(clf):
    p = clf.predict([{"id": 1, "title": "cty no bhxh 6 thang roi, ko chot so dc, nld buc xuc qua"}])[0]
    assert p.relevant and p.sentiment == "negative"


def test_malformed_lines_are_reported_in_place(clf):
    lines = [json.dumps(ITEMS[0], ensure_ascii=False), "{not json", json.dumps({"id": 3}),
             "", json.dumps([1, 2]), json.dumps(ITEMS[1], ensure_ascii=False)]
    out = list(classify_lines(lines, clf))
    assert [o.get("id", o.get("line")) for o in out] == ["a", 2, 3, 4, 5, "b"]
    assert "empty line" in out[3]["error"]
    assert "not JSON" in out[1]["error"] and "'title'" in out[2]["error"]
    assert out[2]["error"].startswith("classify: line 3")


def test_classify_command_exit_status_and_order(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join([json.dumps(ITEMS[0], ensure_ascii=False), "oops",
                              json.dumps(ITEMS[2], ensure_ascii=False)]) + "\n", encoding="utf-8")
    dst = tmp_path / "out.jsonl"
    result = CliRunner().invoke(classify_command, ["--input", str(src), "--output", str(dst),
                                                   "--model", str(SHIPPED)])
    assert result.exit_code == 1
    rows = [json.loads(line) for line in dst.read_text(encoding="utf-8").splitlines()]
    assert [r.get("id") for r in rows] == ["a", None, "c"] and rows[1]["line"] == 2


def test_classify_command_well_formed_input_exits_zero():
    line = json.dumps(ITEMS[1], ensure_ascii=False) + "\n"
    result = CliRunner().invoke(classify_command, ["--model", str(SHIPPED)], input=line)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["id"] == "b"


def test_model_path_resolution(monkeypatch, tmp_path):
    from classifiers.model import resolve_model_path

    monkeypatch.delenv("BHXH_MODEL_PATH", raising=False)
    monkeypatch.setenv("BHXH_DATA_DIR", str(tmp_path))
    assert resolve_model_path() == SHIPPED
    trained = tmp_path / "models" / "2026.01.02-abcdef0.skops"
    trained.parent.mkdir()
    trained.write_bytes(SHIPPED.read_bytes())
    assert resolve_model_path() == trained
    chosen = tmp_path / "chosen.skops"
    monkeypatch.setenv("BHXH_MODEL_PATH", str(chosen))
    assert resolve_model_path() == chosen
    assert resolve_model_path(SHIPPED) == SHIPPED


def test_reasons_of_relevant_items_are_whole_words(clf):
    p = clf.predict([{"id": 1, "title": "Cảnh báo giả danh cán bộ bảo hiểm xã hội gọi điện lừa đảo người cao tuổi"}])[0]
    assert p.relevant
    assert any(" " in r for r in p.reasons)  # multi-syllable words, not lone syllables only
    assert not {"không", "được", "của"} & set(p.reasons)


def test_undecodable_bytes_are_a_malformed_line(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"id": 1, "title": "\xff\xfe"}\n' + json.dumps(ITEMS[1]).encode() + b"\n")
    dst = tmp_path / "out.jsonl"
    result = CliRunner().invoke(classify_command, ["--input", str(src), "--output", str(dst),
                                                   "--model", str(SHIPPED)])
    assert result.exit_code == 1
    rows = [json.loads(line) for line in dst.read_text(encoding="utf-8").splitlines()]
    assert rows[0] == {"line": 1, "error": "classify: line 1: not valid UTF-8"} and rows[1]["id"] == "b"
