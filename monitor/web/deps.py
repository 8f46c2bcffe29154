"""Per-request database access and the signed-in user, as FastAPI dependencies."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Iterator

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from monitor.models import User


class LoginRequired(Exception):
    """The session names no active user (deleted or disabled since it logged in)."""


@dataclass(frozen=True)
class Officer:
    id: int
    username: str
    display_name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@contextlib.contextmanager
def reading(request: Request) -> Iterator[Session]:
    """A read-only session; on SQLite it does not take the write lock (``BEGIN DEFERRED``)."""
    with request.app.state.sessions() as session:
        session.connection(execution_options={"sqlite_begin": "DEFERRED"})
        yield session


def writing(request: Request):
    """A session in one short write transaction (committed on success)."""
    return request.app.state.sessions.begin()


def current_user(request: Request) -> Officer:
    uid = request.session.get("uid")
    with reading(request) as session:
        user = session.get(User, uid) if uid else None
        if user is None or not user.active:
            request.session.clear()
            raise LoginRequired()
        officer = Officer(user.id, user.username, user.display_name or user.username, user.role)
    request.state.user = officer
    return officer


def admin_user(user: Officer = Depends(current_user)) -> Officer:
    if not user.is_admin:
        raise HTTPException(status_code=403, detail="web.auth: chỉ quản trị viên được làm việc này")
    return user
