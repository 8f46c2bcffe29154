"""Synthetic Vietnamese streams for the crisis-detection tests (our own text) and a keyword test
double of the classifier interface (``.version``, ``.predict``)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from classifiers.model import Prediction
from classifiers.text import fold

VN = timezone(timedelta(hours=7))
START = datetime(2025, 9, 1, 7, 0, tzinfo=VN)
OUTLETS = ["Báo Lao Động", "Báo Người Lao Động", "Báo Dân Trí", "Báo Tiền Phong", "Diễn đàn Webtretho"]

ROUTINE = [
    "Hướng dẫn tra cứu quá trình đóng bảo hiểm xã hội trên ứng dụng VssID",
    "Mức hưởng chế độ thai sản năm nay được tính thế nào",
    "Những điểm mới về bảo hiểm y tế học sinh năm học mới",
    "Thủ tục đăng ký bảo hiểm xã hội tự nguyện cho lao động tự do",
    "Cách tính lương hưu theo Luật Bảo hiểm xã hội mới",
    "Điều kiện hưởng trợ cấp thất nghiệp người lao động cần biết",
]
OTHER = [
    "Giá vàng hôm nay tăng nhẹ", "Đội tuyển bóng đá thắng trận giao hữu", "Thời tiết miền Bắc chuyển lạnh",
    "Khai mạc hội chợ hàng Việt", "Giá xăng giảm từ chiều nay",
]
DEBT_BURST = [
    "Công ty may Hòa Phát nợ bảo hiểm xã hội, 300 công nhân bức xúc",
    "300 công nhân công ty may Hòa Phát bị nợ BHXH nhiều tháng",
    "Công nhân may Hòa Phát bức xúc vì công ty nợ đóng bảo hiểm xã hội",
    "Vụ công ty may Hòa Phát nợ BHXH: công nhân chưa được chốt sổ",
    "Công ty may Hòa Phát nợ đóng BHXH, công nhân không được hưởng thai sản",
]
OUTAGE_BURST = [
    "Ứng dụng VssID bị lỗi, người dân không đăng nhập được",
    "Lỗi đăng nhập ứng dụng VssID kéo dài, người dân bức xúc",
    "VssID gặp sự cố đăng nhập, nhiều người dân bức xúc",
    "Người dân phản ánh ứng dụng VssID lỗi không đăng nhập được cả ngày",
]
RUMOUR_BURST = [
    "Lan truyền tin BHXH một lần bị bãi bỏ, người lao động đổ xô đi rút",
    "Tin đồn bãi bỏ BHXH một lần khiến công nhân lo lắng xếp hàng rút",
    "Người lao động xếp hàng rút BHXH một lần vì nghe tin sắp bị bãi bỏ",
]
COMPLAINT_BURST = [
    "Người lao động phản ánh chậm chi trả trợ cấp thất nghiệp ở quận Hai",
    "Chậm chi trả trợ cấp thất nghiệp, người lao động quận Hai chờ mòn mỏi",
    "Quận Hai: nhiều người chờ chi trả trợ cấp thất nghiệp quá hạn",
]


def record(n: int, at: datetime, title: str, outlet: str, snippet: str = "") -> dict:
    return {"id": f"syn-{n}", "source": outlet, "url": f"https://example.vn/tin-{n}.html", "title": title,
            "snippet": snippet, "published": at.isoformat()}


def calm(days: int = 7, start: datetime = START, first: int = 0) -> list[dict]:
    """Routine BHXH explainers every 3 hours, other news every hour, one negative item a day."""
    out, n = [], first
    for hour in range(days * 24):
        at = start + timedelta(hours=hour, minutes=7)
        out.append(record(n, at, f"{OTHER[hour % len(OTHER)]} (bản tin {hour})", OUTLETS[hour % 4]))
        n += 1
        if hour % 3 == 0:
            title = f"{ROUTINE[(hour // 3) % len(ROUTINE)]}"
            out.append(record(n, at + timedelta(minutes=20), title, OUTLETS[(hour // 3) % 4],
                              f"Giải đáp số {hour} cho bạn đọc"))
            n += 1
        if hour % 24 == 10:
            out.append(record(n, at + timedelta(minutes=30),
                              f"Một doanh nghiệp ở huyện số {hour // 24} chậm đóng bảo hiểm xã hội cho người lao động",
                              OUTLETS[hour % 4]))
            n += 1
    return out


def burst(titles: list[str], start: datetime, first: int, *, every: timedelta = timedelta(minutes=25)) -> list[dict]:
    return [record(first + k, start + k * every, title, OUTLETS[k % 4]) for k, title in enumerate(titles)]


_NEGATIVE = ("no bao hiem", "no bhxh", "no dong", "buc xuc", "cham chi tra", "cham dong", "loi", "su co",
             "lo lang", "chua duoc", "qua han", "cho mon moi")
_CATEGORIES = [
    (("no bao hiem", "no bhxh", "no dong", "cham dong"), "contribution_debt_evasion"),
    (("vssid bi loi", "loi dang nhap", "su co", "vssid loi"), "service_it_outage"),
    (("cham chi tra", "chi tra"), "payment_delay"),
    (("rut bhxh", "bai bo"), "policy_change_controversy"),
]


class KeywordClassifier:
    """Test double of ``classifiers.model.Classifier``: keyword rules, same two members."""

    version = "keyword-test-1"

    def predict(self, records):
        return [self._one(r) for r in records]

    def _one(self, r) -> Prediction:
        text = fold(f"{r.get('title', '')} {r.get('summary') or r.get('snippet') or ''}")
        relevant = any(k in text for k in ("bao hiem", "bhxh", "bhyt", "vssid", "tro cap that nghiep", "luong huu"))
        negative = relevant and any(k in text for k in _NEGATIVE)
        category = "not_relevant"
        if relevant:
            category = next((c for keys, c in _CATEGORIES if any(k in text for k in keys)), "benefit_info")
        sentiment = "negative" if negative else "neutral"
        reasons = [w for w in ("nợ BHXH", "bức xúc", "lỗi") if fold(w) in text] if negative else []
        return Prediction(id=r["id"], relevant=relevant, relevance=0.9 if relevant else 0.05, sentiment=sentiment,
                          sentiment_scores={"negative": 0.8 if negative else 0.1, "neutral": 0.2 if negative else 0.9,
                                            "positive": 0.0},
                          misleading=False, misleading_score=0.05, category=category, model_version=self.version,
                          reasons=reasons, uncertainty=0.5)
