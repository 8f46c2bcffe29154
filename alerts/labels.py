"""Vietnamese display names for ticket states, severity levels and crisis categories.

One table each, imported by the web page, email templates and ticket reasons so officers see the
same words everywhere. Keys are the stored values (``Ticket.state``, ``Ticket.severity``,
``Classification.category``).
"""

from __future__ import annotations

# Ticket lifecycle, mapped to the plan's three phases: forecast/prevent (new, acknowledged),
# handle (responding), rebuild trust (monitoring), then closed.
STATE_LABELS: dict[str, str] = {
    "new": "Mới",
    "acknowledged": "Đã tiếp nhận",
    "responding": "Đang xử lý",
    "monitoring": "Theo dõi sau khủng hoảng",
    "closed": "Đã đóng",
}

# Which phase of the communication-crisis plan each state belongs to.
PHASE_LABELS: dict[str, str] = {
    "new": "Dự báo, phòng ngừa",
    "acknowledged": "Dự báo, phòng ngừa",
    "responding": "Xử lý khủng hoảng",
    "monitoring": "Khôi phục niềm tin",
    "closed": "Khôi phục niềm tin",
}

SEVERITY_LABELS: dict[int, str] = {
    1: "Thấp",
    2: "Trung bình",
    3: "Cao",
    4: "Khẩn cấp",
}

CATEGORY_LABELS: dict[str, str] = {
    "payment_delay": "Chậm chi trả chế độ",
    "contribution_debt_evasion": "Nợ, trốn đóng BHXH",
    "fraud_scam_impersonation": "Lừa đảo, giả danh, trục lợi quỹ",
    "misinformation": "Thông tin sai lệch",
    "policy_change_controversy": "Tranh cãi về chính sách",
    "service_it_outage": "Sự cố dịch vụ, hệ thống",
    "official_misconduct": "Sai phạm của cán bộ",
    "benefit_info": "Thông tin chế độ",
    "policy_info": "Thông tin chính sách",
    "positive_result": "Kết quả tích cực",
    "other_bhxh": "BHXH khác",
    "not_relevant": "Không liên quan",
}

SENTIMENT_LABELS: dict[str, str] = {
    "negative": "Tiêu cực",
    "neutral": "Trung lập",
    "positive": "Tích cực",
}


def state_label(state: str) -> str:
    return STATE_LABELS.get(state, state)


def severity_label(level: int) -> str:
    return SEVERITY_LABELS.get(level, str(level))


def category_label(category: str | None) -> str:
    return CATEGORY_LABELS.get(category or "", category or "")
