"""Pure parts of the alert email: which playbook steps show, how reasons and subjects read."""

import pytest

from alerts.alert_mail import current_steps, reason_text, stage_label
from alerts.templating import safe_url

STEPS = [
    {"stage": "prevent", "text": "Xác minh thông tin", "done": True},
    {"stage": "handle", "text": "Đăng thông cáo báo chí", "done": False},
    {"stage": "handle", "text": "Trả lời phản ánh trên mạng xã hội", "done": False},
    {"stage": "recover", "text": "Theo dõi dư luận 7 ngày", "done": False},
]


@pytest.mark.parametrize("state, stage, texts", [
    ("new", "prevent", ["Xác minh thông tin"]),
    ("responding", "handle", ["Đăng thông cáo báo chí", "Trả lời phản ánh trên mạng xã hội"]),
    ("monitoring", "recover", ["Theo dõi dư luận 7 ngày"]),
    ("unknown-state", "handle", ["Đăng thông cáo báo chí", "Trả lời phản ánh trên mạng xã hội"]),
])
def test_current_steps_follow_the_phase_of_the_state(state, stage, texts):
    got_stage, steps = current_steps(STEPS, state)
    assert (got_stage, [s["text"] for s in steps]) == (stage, texts)


def test_stage_labels_are_vietnamese():
    assert [stage_label(s) for s in ("prevent", "handle", "recover", "other")] == [
        "Dự báo, phòng ngừa", "Xử lý khủng hoảng", "Khôi phục niềm tin", "other"]


@pytest.mark.parametrize("reason, text", [
    ("từ khoá: chậm chi trả", "từ khoá: chậm chi trả"),
    ({"text": "khớp tin đồn đã biết"}, "khớp tin đồn đã biết"),
    ({"term": "lừa đảo", "weight": 0.4}, "lừa đảo"),
    (3, "3"),
])
def test_reason_text(reason, text):
    assert reason_text(reason) == text


@pytest.mark.parametrize("url, safe", [
    ("https://bao.example.vn/a?b=1", "https://bao.example.vn/a?b=1"),
    ("HTTP://bao.example.vn", "HTTP://bao.example.vn"),
    ("javascript:alert(1)", ""), (" data:text/html,x", ""), ("//evil.example", ""), ("", ""), (None, ""),
    ("http://[::1", ""),
])
def test_only_http_links_survive(url, safe):
    assert safe_url(url) == safe
