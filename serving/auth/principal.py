"""Who is calling: the result of authentication, independent of the mechanism used."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Principal:
    """An authenticated caller.

    ``bound_tenant_id`` is the tenant the credential itself is tied to (an API key's tenant, a
    JWT's tenant claim); tenant resolution refuses any other tenant named by the request.
    """

    via: Literal["jwt", "session", "api_key"]
    user_id: int | None = None
    api_key_id: int | None = None
    is_platform_admin: bool = False
    bound_tenant_id: int | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def id(self) -> str:
        """A stable label for logs and rate-limit keys."""
        return f"key:{self.api_key_id}" if self.api_key_id is not None else f"user:{self.user_id}"

    @property
    def is_api_key(self) -> bool:
        return self.via == "api_key"
