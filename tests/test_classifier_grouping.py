"""Story groups for grouped cross-validation, and how reasons are merged."""

from __future__ import annotations

from classifiers.corpus import Example
from classifiers.grouping import story_groups
from classifiers.reasons import _merge


def _ex(i: int, title: str, link: str | None = None, key: str | None = None) -> Example:
    return Example(id=str(i), text=title, relevant=True, sentiment="neutral", misleading=False,
                   category="policy_info", origin="t", link=link, key=key, title=title)


def test_copies_and_near_duplicate_titles_share_a_group():
    examples = [
        _ex(0, "Lương hưu tháng 9 được chi trả sớm tại Hà Nội"),
        _ex(1, "Luong huu thang 9 duoc chi tra som tai Ha Noi"),  # same title, typed without dấu
        _ex(2, "Hà Nội: lương hưu tháng 9 được chi trả sớm tại Hà Nội từ ngày 1"),
        _ex(3, "Doanh nghiệp nợ bảo hiểm xã hội bị xử phạt", link="https://x.vn/a"),
        _ex(4, "Một tiêu đề khác hẳn", link="https://x.vn/a"),
        _ex(5, "Bài viết lại", key="r1"), _ex(6, "Một bản viết lại nữa", key="r1"),
        _ex(7, "Giá vàng hôm nay tăng mạnh"),
    ]
    g = story_groups(examples)
    assert g[0] == g[1] == g[2]
    assert g[3] == g[4] and g[5] == g[6]
    assert len({g[0], g[3], g[5], g[7]}) == 4


def test_reasons_merge_prefers_longer_terms_and_drops_repeats():
    assert _merge([["bảo hiểm", "nợ"], ["bảo hiểm xã hội", "nợ", "chốt sổ"]]) == ["nợ", "bảo hiểm xã hội", "chốt sổ"]
    assert len(_merge([[f"t{i}" for i in range(10)]])) == 6
