"""sync_rumours: the YAML registry upserts by key, web edits win, removed keys are deactivated
(SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select

from alerts.rumours import active_rumours, sync_rumours
from monitor.models import Rumour

T0 = datetime(2025, 9, 1, tzinfo=timezone.utc)

FIRST = """
- key: mot-lan
  claim: BHXH một lần bị bãi bỏ
  fact: Luật không bãi bỏ BHXH một lần.
- key: the-giay
  claim: Thẻ BHYT giấy hết giá trị
  fact: Thẻ giấy còn hạn vẫn dùng được.
"""
SECOND = """
- key: mot-lan
  claim: BHXH một lần bị bãi bỏ từ năm sau
  fact: Luật không bãi bỏ BHXH một lần.
  variants: [cấm rút BHXH một lần]
"""


def test_sync_upserts_keeps_web_edits_and_deactivates_removed(any_sessions, tmp_path: Path):
    path = tmp_path / "rumours.yaml"
    path.write_text(FIRST, encoding="utf-8")
    with any_sessions.begin() as session:
        assert sync_rumours(session, path, now=T0) == 2
        assert sync_rumours(session, path, now=T0) == 0  # idempotent
        web = Rumour(key="web-only", claim="Tin đồn do cán bộ thêm trên web", fact="Sự thật", updated_by="lan")
        session.add(web)
        edited = session.scalars(select(Rumour).where(Rumour.key == "the-giay")).one()
        edited.fact, edited.updated_by = "Cán bộ đã sửa trên web", "lan"
    path.write_text(SECOND, encoding="utf-8")
    with any_sessions.begin() as session:
        assert sync_rumours(session, path, now=T0) == 1
    with any_sessions() as session:
        rows = {r.key: r for r in session.scalars(select(Rumour))}
        assert rows["mot-lan"].claim == "BHXH một lần bị bãi bỏ từ năm sau"
        assert rows["mot-lan"].variants == ["cấm rút BHXH một lần"] and rows["mot-lan"].updated_by == "yaml"
        assert rows["the-giay"].fact == "Cán bộ đã sửa trên web" and rows["the-giay"].active
        assert rows["web-only"].active
        assert {r.key for r in active_rumours(session)} == {"mot-lan", "the-giay", "web-only"}
