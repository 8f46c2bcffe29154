"""``bhxh-monitor demo`` works offline: items, flags, crisis tickets and a digest from bundled feeds."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import func, select

from monitor import db
from monitor.cli import cli
from monitor.models import Classification, Item, Ticket, User


def test_demo_prepares_items_flags_tickets_and_a_digest(tmp_path, monkeypatch):
    monkeypatch.delenv("BHXH_DATABASE_URL", raising=False)
    result = CliRunner().invoke(cli, ["demo", "--no-serve", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    engine = db.make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    with db.session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 17
        assert session.scalar(select(func.count()).select_from(Classification).where(Classification.relevant)) >= 10
        tickets = session.scalars(select(Ticket)).all()
        categories = {t.category for t in tickets}
        # The garment company's debt story and the pension-withdrawal rumour are one ticket each.
        assert {"contribution_debt_evasion", "misinformation"} <= categories
        assert sum(t.category == "misinformation" for t in tickets) == 1
        assert sum(t.category == "contribution_debt_evasion" for t in tickets) == 1
        assert session.scalars(select(User.username)).all() == ["demo"]
    engine.dispose()
    digest = (tmp_path / "digest.html").read_text(encoding="utf-8")
    assert "Bản tin tuần" in digest
    assert "log in as 'demo'" in result.output
