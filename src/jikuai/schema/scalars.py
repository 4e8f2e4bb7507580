"""Scalars of the API beyond GraphQL's own, registered through `SCALARS` in the schema config."""

from __future__ import annotations

from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

Sealed = NewType("Sealed", str)

SCALARS: dict[object, ScalarDefinition] = {
    Sealed: strawberry.scalar(
        name="Sealed",
        description=(
            "数字信封 digital envelope: a JWE compact string (RSA-OAEP-256 + A256GCM) sealed to "
            'the key of `envelopeKey`, whose plaintext is {"f": <input field>, "v": <value>, '
            '"iat": <unix seconds>}. See docs/security.md.'
        ),
        serialize=str,
        parse_value=str,
    )
}
