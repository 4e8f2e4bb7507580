"""`importPerformanceFacts`: open each row's sealed ID number, then import through
`domain/performance/facts`."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping, Sequence

from jikuai.domain.performance import facts
from jikuai.domain.performance.facts import FactRow, ImportReport, RowError, RowField
from jikuai.domain.shared.errors import DomainErrors, ErrorCode
from jikuai.resolvers.context import Context
from jikuai.resolvers.envelopes import open_sealed
from jikuai.resolvers.outcomes import Attempt, attempt

SEALED_FIELD = "customerIdNumber"  # the field name each row's envelope is sealed for


async def import_facts(
    context: Context, rows: Sequence[FactRow], *, sealed_id_numbers: Mapping[int, str]
) -> Attempt[ImportReport]:
    """`sealed_id_numbers`: the envelope of each row (by number) that names a customer."""
    actor = await context.require_actor()

    async def imported() -> ImportReport:
        # Before opening envelopes: a refused caller learns nothing about them.
        facts.admit(actor, len(rows))
        # Up to a thousand RSA decryptions: in a thread, so the server's other requests are
        # served meanwhile.
        opened, envelope_errors = await asyncio.to_thread(_opened, context, rows, sealed_id_numbers)
        return await facts.import_facts(
            opened,
            actor=actor,
            uow=context.db.unit_of_work(),
            cache=context.services.cache,
            id_number_index=context.services.vault.id_number_index,
            now=context.now,
            today=context.today,
            request_id=context.request_id,
            known_errors=envelope_errors,
        )

    return await attempt(imported())


def _opened(
    context: Context, rows: Sequence[FactRow], sealed: Mapping[int, str]
) -> tuple[list[FactRow], list[RowError]]:
    """The rows with their ID numbers opened; an envelope that does not open is an error of its
    row only."""
    opened: list[FactRow] = []
    errors: list[RowError] = []
    for row in rows:
        token = sealed.get(row.number)
        if token is None:
            opened.append(row)
            continue
        try:
            id_number = open_sealed(context, {SEALED_FIELD: token})[SEALED_FIELD]
        except DomainErrors:
            errors.append(
                RowError(row.number, RowField.CUSTOMER_ID_NUMBER, ErrorCode.ENVELOPE_INVALID)
            )
            id_number = ""
        opened.append(dataclasses.replace(row, customer_id_number=id_number))
    return opened, errors
