"""Officers who log in to the web page: creation, password hashing (Argon2id), verification."""

from __future__ import annotations

import click
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.cli_common import database_option, open_database
from monitor.errors import MonitorError
from monitor.models import AuditLog, User

ROLES = ("reviewer", "admin")
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(session: Session, username: str, password: str, role: str = "reviewer",
                display_name: str = "", actor: str = "cli") -> User:
    if role not in ROLES:
        raise MonitorError(f"users: unknown role {role!r}; one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise MonitorError("users: the password needs at least 8 characters")
    if session.scalar(select(User).where(User.username == username)):
        raise MonitorError(f"users: {username!r} already exists")
    user = User(username=username, password_hash=hash_password(password), role=role,
                display_name=display_name or username)
    session.add(user)
    session.add(AuditLog(actor=actor, action="user_added", target=f"user:{username}", detail={"role": role}))
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, else None (same cost either way)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        _hasher.hash(password)  # spend the same time, so user names cannot be probed by timing
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


@click.group("users")
def users_group() -> None:
    """Manage the officers who can log in to the web page."""


@users_group.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="reviewer", show_default=True)
@click.option("--name", "display_name", default="", help="Name shown on the page.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              envvar="BHXH_NEW_USER_PASSWORD", help="Prompted for when omitted (or BHXH_NEW_USER_PASSWORD).")
@database_option
def add_command(username: str, role: str, display_name: str, password: str, database: str | None) -> None:
    """Add an officer who can log in."""
    ctx = open_database(database)
    with ctx.sessions.begin() as session:
        create_user(session, username, password, role, display_name)
    click.echo(f"users: added {username} ({role})")
    ctx.engine.dispose()


@users_group.command("list")
@database_option
def list_command(database: str | None) -> None:
    """List officers and their roles."""
    ctx = open_database(database)
    with ctx.sessions() as session:
        for user in session.scalars(select(User).order_by(User.username)):
            state = "" if user.active else " (disabled)"
            click.echo(f"{user.username}\t{user.role}\t{user.display_name}{state}")
    ctx.engine.dispose()
