"""Retraining from reviews: the model version in use, how many reviews no model has learnt from
yet, past training runs, and (admins only) a button that retrains in a background thread."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from dataclasses import dataclass, field
from datetime import datetime, timezone

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import func, select

from monitor.models import AuditLog, ModelRun, Review
from monitor.web.deps import Officer, admin_user, current_user, reading, writing
from monitor.web.render import flash, render

log = logging.getLogger(__name__)
router = APIRouter()


@dataclass
class RetrainStatus:
    """What the background retraining is doing; one per app, guarded by ``lock``."""

    state: str = "idle"  # idle | running | done | failed
    started_by: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    message: str = ""
    version: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


def _signature(settings) -> tuple:
    models = Path(settings.data_dir) / "models"
    newest = max(models.glob("*.skops"), key=lambda p: p.stat().st_mtime, default=None) if models.is_dir() else None
    return (str(settings.model_path or ""), str(newest or ""), newest.stat().st_mtime if newest else 0)


def model_version(app) -> str:
    """Version of the classifier the service loads; looked up again when a newer artifact appears
    (as ``monitor.jobs.ClassifierHolder`` does), e.g. after ``bhxh-monitor train``."""
    settings = app.state.settings
    signature = _signature(settings)
    cached = getattr(app.state, "model_version", None)
    if cached is None or cached[0] != signature:
        try:
            from classifiers.model import load_classifier

            # This app's settings (not the environment's): model_path, else the newest trained one.
            path = settings.model_path or (signature[1] or None)
            version = str(load_classifier(path).version)
        except Exception as exc:  # no model yet, or classifiers not built: say so on the page
            log.info("no classifier loaded", extra={"error": str(exc)[:200]})
            version = ""
        cached = app.state.model_version = (signature, version)
    return cached[1]


def _retrain(app, status: RetrainStatus) -> None:
    def progress(stage, done=None, total=None, *_args):
        stages = {"cross-validation": "Kiểm định chéo", "final model": "Huấn luyện mô hình cuối"}
        step = f" {done}/{total}" if done is not None and total else ""
        status.message = f"{stages.get(stage, stage)}{step}"[:300]

    try:
        from classifiers.train import retrain

        run = retrain(app.state.sessions, app.state.settings, progress=progress)
        status.version = str(getattr(run, "version", ""))
        status.state, status.message = "done", f"Đã huấn luyện phiên bản {status.version}"
    except Exception as exc:
        log.exception("retrain failed")
        status.state, status.message = "failed", f"Huấn luyện thất bại: {exc}"[:500]
    finally:
        status.finished_at = datetime.now(timezone.utc)


@router.get("/model")
def model_page(request: Request, user: Officer = Depends(current_user)):
    with reading(request) as session:
        untrained = session.scalar(select(func.count()).select_from(Review).where(Review.trained_in.is_(None)))
        reviews = session.scalar(select(func.count()).select_from(Review))
        runs = session.scalars(select(ModelRun).order_by(ModelRun.trained_at.desc()).limit(10)).all()
        return render(request, "model.html", title="Mô hình phân loại", version=model_version(request.app),
                      untrained=untrained or 0, reviews=reviews or 0, runs=runs,
                      status=request.app.state.retrain)


@router.post("/model/retrain")
def start_retrain(request: Request, user: Officer = Depends(admin_user)):
    status: RetrainStatus = request.app.state.retrain
    with status.lock:
        if status.state == "running":
            flash(request, "Đang huấn luyện; vui lòng đợi.")
            return RedirectResponse("/model", status_code=303)
        now = datetime.now(timezone.utc)
        status.state, status.started_by, status.started_at = "running", user.username, now
        status.finished_at, status.message, status.version = None, "Bắt đầu huấn luyện…", ""
    with writing(request) as session:
        session.add(AuditLog(at=now, actor=user.username, action="retrain_started", target="model"))
    threading.Thread(target=_retrain, args=(request.app, status), name="retrain", daemon=True).start()
    flash(request, "Đã bắt đầu huấn luyện lại mô hình.")
    return RedirectResponse("/model", status_code=303)
