"""Opening the sealed input fields of a request."""

from __future__ import annotations

from collections.abc import Mapping

from jikuai.domain.shared.errors import DomainError, DomainErrors, ErrorCode
from jikuai.resolvers.context import Context
from jikuai.security import EnvelopeInvalid


def open_sealed(context: Context, sealed: Mapping[str, str]) -> dict[str, str]:
    """Open each `{input field: envelope}`; every bad envelope is one error on its field."""
    opened: dict[str, str] = {}
    errors: list[DomainError] = []
    for field, token in sealed.items():
        try:
            opened[field] = context.services.envelopes.open(token, field=field, now=context.now)
        except EnvelopeInvalid:
            errors.append(DomainError(ErrorCode.ENVELOPE_INVALID, field=(field,)))
    if errors:
        raise DomainErrors(errors)
    return opened
