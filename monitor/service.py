"""``bhxh-monitor serve``: the whole service in one process — the web page (uvicorn) and one
scheduler running every job (``monitor.jobs``) — plus ``/healthz`` and ``/metrics``.

Start-up: upgrade the schema → sync sources and known rumours from their files → make sure an admin
can log in → start the scheduler inside the web app's lifespan → serve. SIGTERM/SIGINT stop the web
server gracefully; the lifespan then shuts the scheduler down, waiting for running jobs to finish
(each job commits or rolls back its own transaction, so nothing is left half-written).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from pathlib import Path

import click
import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from sqlalchemy import func, select, text

from monitor import metrics
from monitor.cli_common import Context, database_option, feeds_option, load_feeds_option, open_database
from monitor.config import FeedsConfig
from monitor.jobs import ClassifierHolder, Service, build_scheduler
from monitor.logs import setup_logging
from monitor.models import User
from monitor.settings import load_settings
from monitor.users import create_user

log = logging.getLogger("monitor.service")


def prepare(ctx: Context, config: FeedsConfig) -> None:
    """Bring stored configuration in line with the files, and make sure someone can log in."""
    from alerts.rumours import sync_rumours
    from monitor.sources import sync_sources

    with ctx.sessions.begin() as session:
        sources = sync_sources(session, config)
        rumours = sync_rumours(session, config.detection.rumours_file)
    log.info("configuration synced", extra={"sources": len(sources), "rumours": rumours})
    ensure_admin(ctx)


def ensure_admin(ctx: Context) -> None:
    """On first start there is nobody to log in: create ``admin`` with a random password, written
    once to <data_dir>/initial-admin-password (mode 0600) for the operator to read and change."""
    with ctx.sessions.begin() as session:
        if session.scalar(select(func.count()).select_from(User)):
            return
        password = os.environ.get("BHXH_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        create_user(session, "admin", password, role="admin", display_name="Quản trị viên", actor="service")
    path = Path(ctx.settings.data_dir) / "initial-admin-password"
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(password + "\n")
    log.warning("created the first user 'admin'; its password is in %s", path, extra={"user": "admin"})


def add_health_routes(app: FastAPI, ctx: Context, scheduler=None) -> None:
    """``/healthz`` (liveness: the process answers and the database is reachable) and ``/metrics``."""

    @app.get("/healthz", include_in_schema=False)
    def healthz():
        try:
            with ctx.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # the page must say why, not raise
            return JSONResponse({"status": "error", "database": str(exc)[:200]}, status_code=503)
        running = bool(scheduler and scheduler.running)
        return {"status": "ok", "database": "ok", "scheduler": "running" if running else "stopped"}

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics():
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")


def build_app(ctx: Context, config: FeedsConfig, *, with_scheduler: bool = True) -> FastAPI:
    """The web app with the scheduler tied to its lifespan."""
    from monitor.web.app import create_app

    app = create_app(ctx.settings, ctx.sessions, config)
    metrics.watch_database(ctx.sessions)
    service = Service(ctx.settings, config, ctx.sessions, ClassifierHolder(ctx.settings))
    scheduler = build_scheduler(service) if with_scheduler else None
    add_health_routes(app, ctx, scheduler)
    inner_lifespan = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(application):
        if scheduler:
            scheduler.start()
            log.info("scheduler started", extra={"jobs": len(scheduler.get_jobs())})
        try:
            async with inner_lifespan(application) as state:
                yield state
        finally:
            if scheduler and scheduler.running:
                log.info("stopping scheduler; waiting for running jobs")
                await asyncio.to_thread(scheduler.shutdown, True)
            ctx.engine.dispose()

    app.router.lifespan_context = lifespan
    app.state.service = service
    return app


def run(ctx: Context, config: FeedsConfig, host: str, port: int, *, with_scheduler: bool = True) -> None:
    prepare(ctx, config)
    app = build_app(ctx, config, with_scheduler=with_scheduler)
    log.info("serving", extra={"url": f"http://{host}:{port}/"})
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False,
                                           timeout_graceful_shutdown=30))
    server.run()


@click.command("serve")
@feeds_option
@database_option
@click.option("--host", default=None, help="Listen address (default BHXH_WEB_HOST, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Listen port (default BHXH_WEB_PORT, 8080).")
@click.option("--no-scheduler", is_flag=True, help="Serve the web page only; run no jobs.")
def serve_command(feeds, database, host, port, no_scheduler) -> None:
    """Run the service: web page and scheduled jobs in one process."""
    settings = load_settings(database_url=database)
    setup_logging(settings.log_level, settings.log_format)
    config = load_feeds_option(feeds)
    ctx = open_database(database, settings=settings)
    run(ctx, config, host or settings.web_host, port or settings.web_port, with_scheduler=not no_scheduler)
