"""Request and response models for /api/v1/users/ (members of the current tenant)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from serving.api import Body, Out
from serving.pagination import Paginated
from warehouse.controldb.models import Membership, Role


class MemberCreate(Body):
    """Add a member; the account is created when no account has this email yet."""

    email: str = Field(max_length=320)
    role: Role
    full_name: str = Field("", max_length=200, description="Used only for a new account.")
    password: str | None = Field(
        None, description="Required for a new account; an existing account keeps its password."
    )


class MemberUpdate(Body):
    role: Role


class MemberOut(Out):
    user_id: int
    email: str
    full_name: str
    role: Role
    is_active: bool = Field(description="False when the account is disabled everywhere.")
    joined_at: datetime

    @classmethod
    def of(cls, membership: Membership) -> MemberOut:
        """Describe a membership together with its account."""
        user = membership.user
        return cls(
            user_id=user.id,
            email=user.email,
            full_name=user.full_name,
            role=Role(membership.role),
            is_active=user.is_active,
            joined_at=membership.created_at,
        )


class MemberPage(Paginated[MemberOut]):
    pass
