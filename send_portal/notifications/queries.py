"""What the notifications pages read and write: a person's own
notifications only (every function takes the signed-in person's id). The
views end each request's transaction."""
from __future__ import annotations

from sqlalchemy import func, select, update

from ..extensions import db
from ..models import utcnow
from ..pagination import Page, paginate
from .models import Notification


def unread_count(user_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Notification).where(
            Notification.recipient_id == user_id, Notification.read_at.is_(None)
        )
    ) or 0


def notifications_page(user_id: int, page: int, page_size: int) -> Page:
    """A page of the person's notifications, newest first."""
    mine = Notification.recipient_id == user_id
    total = db.session.scalar(select(func.count()).select_from(Notification).where(mine)) or 0
    return paginate(total, page, page_size, lambda limit, offset: db.session.scalars(
        select(Notification).where(mine)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit).offset(offset)
    ))


def notification_link(notification_id: int, user_id: int) -> str | None:
    """Where the person's notification leads; None if it is not theirs."""
    return db.session.scalar(
        select(Notification.link).where(Notification.id == notification_id, Notification.recipient_id == user_id)
    )


def mark_read(notification_id: int, user_id: int) -> None:
    """Record that the person read their notification (again changes nothing)."""
    db.session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.recipient_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def mark_all_read(user_id: int) -> int:
    """Mark every unread notification of the person as read; how many were."""
    return db.session.execute(
        update(Notification)
        .where(Notification.recipient_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
