"""From what a member asks for to a SELECT: pure functions that build queries, run nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select

from .models import Deadline, Opportunity


def next_deadlines(now: datetime) -> Select:
    """Per opportunity, the instant of its soonest deadline still ahead of `now`."""
    return (
        select(Deadline.opportunity_id, func.min(Deadline.due_at).label("next_due_at"))
        .where(Deadline.due_at > now)
        .group_by(Deadline.opportunity_id)
    )


def open_opportunities(now: datetime, limit: int = 50) -> Select:
    """Published opportunities not yet closed: soonest deadline first, then those with no date.

    An opportunity whose every deadline has passed is closed; one with no deadline at all
    (rolling, or none stated) may still be open, so it is listed after the dated ones, newest first.
    """
    upcoming = next_deadlines(now).subquery()
    has_deadline = select(Deadline.id).where(Deadline.opportunity_id == Opportunity.id).exists()
    return (
        select(Opportunity, upcoming.c.next_due_at)
        .outerjoin(upcoming, upcoming.c.opportunity_id == Opportunity.id)
        .where(Opportunity.status == "published")
        .where(upcoming.c.next_due_at.is_not(None) | ~has_deadline)
        .order_by(
            upcoming.c.next_due_at.is_(None),
            upcoming.c.next_due_at,
            Opportunity.published_at.desc().nulls_last(),
            Opportunity.id,
        )
        .limit(limit)
    )
