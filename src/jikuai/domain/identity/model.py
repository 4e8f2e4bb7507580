"""What signing in leaves behind: WeChat accounts, refresh tokens and audit events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jikuai.domain.shared.ids import new_id
from jikuai.domain.tenancy.actors import Actor, ActorKind


@dataclass(slots=True)
class WeChatAccount:
    """A mini-program user, known by openid; bound to a customer once they register."""

    id: uuid.UUID
    app_id: str
    openid: str
    unionid: str | None
    session_key_ct: bytes
    key_id: int
    customer_id: uuid.UUID | None
    created_at: datetime
    last_login_at: datetime


@dataclass(slots=True)
class RefreshToken:
    """An opaque refresh token, kept only as its hash. Tokens of one login share a family."""

    id: uuid.UUID
    token_hash: bytes
    family_id: uuid.UUID
    actor_kind: ActorKind
    actor_id: uuid.UUID
    expires_at: datetime
    created_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None

    def is_live(self, now: datetime) -> bool:
        return self.used_at is None and self.revoked_at is None and now < self.expires_at


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: uuid.UUID
    institution_id: uuid.UUID | None
    actor_kind: ActorKind
    actor_id: uuid.UUID
    action: str
    subject_type: str
    subject_id: str
    request_id: str
    created_at: datetime
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        actor: Actor,
        action: str,
        *,
        institution_id: uuid.UUID | None,
        subject_type: str,
        subject_id: str,
        request_id: str,
        now: datetime,
        details: dict[str, Any] | None = None,
    ) -> AuditEvent:
        """What `actor` did, for the audit trail."""
        return cls(
            id=new_id(),
            institution_id=institution_id,
            actor_kind=actor.kind,
            actor_id=actor.id,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            request_id=request_id,
            created_at=now,
            details=details or {},
        )
