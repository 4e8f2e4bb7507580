"""Key rotation for real: rotate the key ring on disk, restart, and re-encrypt with the CLI.

Each test has its own embedded stack, since rotating keys changes what every other test sees.
"""

import itertools
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from jikuai.app import create_app
from jikuai.container import build_services
from jikuai.domain.customers.services import reencrypt_customers
from jikuai.persistence.tables.customers import customers
from jikuai.persistence.tables.merchants import merchants
from jikuai.persistence.tables.villages import village_households
from jikuai.security import EnvelopeInvalid, EnvelopeOpener, KeyRing, TransportKey, seal
from tests.support.cli import run_cli
from tests.support.merchants import apply
from tests.support.stack import REGISTER, Stack, open_stack
from tests.support.villages import household, households, roster_csv, upload, village_bank

WECHAT = ("http://127.0.0.1:9", "wx1234567890abcdef", "test-wechat-secret")
RETIREMENT = timedelta(hours=24)
CUSTOMERS = """
{ customers(first: 100) { edges { node { id nameMasked phoneMasked idNumberMasked } } } }
"""
NAMES = ["王小明", "李四", "赵六", "钱七", "孙八", "周九"]


@asynccontextmanager
async def embedded_stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with open_stack(
        data_dir=tmp_path, database_url=None, redis_url=None, wechat=WECHAT
    ) as opened:
        yield opened


@asynccontextmanager
async def restarted(stack: Stack) -> AsyncIterator[Stack]:
    """A server restart: new services and app from the same settings, keys read from disk."""
    services = build_services(stack.settings)
    app = create_app(stack.settings, services=services)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://jikuai.test"
        ) as client:
            yield Stack(
                settings=stack.settings,
                services=services,
                client=client,
                world=stack.world,
                _sequence=itertools.count(500),
            )
    finally:
        await services.close()


def rotate(stack: Stack, now: datetime) -> KeyRing:
    """`jikuai keys rotate`, as a library call with a chosen time."""
    rotated = KeyRing.load(stack.settings.key_directory).rotated(now=now, retirement=RETIREMENT)
    rotated.save(stack.settings.key_directory)
    return rotated


async def stored(stack: Stack) -> dict[uuid.UUID, Any]:
    async with stack.services.database.primary.connect() as connection:
        result = await connection.execute(
            select(
                customers.c.id,
                customers.c.key_id,
                customers.c.name_ct,
                customers.c.id_number_ct,
                customers.c.phone_ct,
                customers.c.id_number_bidx,
                customers.c.phone_bidx,
            )
        )
        return {row.id: row for row in result}


async def masked_customers(stack: Stack) -> dict[str, dict[str, str]]:
    """Every customer as the province admin sees them, by global id."""
    body = await stack.gql(CUSTOMERS, token=await stack.token("prov-admin"))
    assert "errors" not in body, body
    return {edge["node"]["id"]: edge["node"] for edge in body["data"]["customers"]["edges"]}


def customer_lines(output: str) -> list[str]:
    """The CLI's progress lines about customers, and the first words of its last line."""
    lines = output.splitlines()
    progress = [line for line in lines if line.startswith("re-encrypted") and "customers" in line]
    return [*progress, " ".join(lines[-1].split()[:3])]


async def register_customers(stack: Stack, count: int) -> None:
    for name in NAMES[:count]:
        payload = await stack.register("alpha-officer", name=name)
        assert payload["userErrors"] == []


def sealed_phone(key: TransportKey, at: datetime) -> str:
    return seal(
        "13912345678", field="phone", public_key=key.private_key.public_key(), kid=key.kid, now=at
    )


async def test_envelopes_sealed_to_the_old_key_open_until_it_retires(tmp_path: Path) -> None:
    async with embedded_stack(tmp_path) as before:
        old_key = before.services.keyring.primary_transport_key
        sealed_before_rotation = before.registration(name="李四")
        rotated_at = datetime.now(UTC)
        rotated = rotate(before, rotated_at)

        async with restarted(before) as after:
            key = (await after.gql("{ envelopeKey { keyId } }"))["data"]["envelopeKey"]
            # A client that cached the old key keeps sealing to it after the restart.
            sealed_after_rotation = before.registration(name="赵六")
            officer = await after.token("alpha-officer")
            outcomes = [
                (await after.gql(REGISTER, {"input": sealed}, token=officer))["data"][
                    "registerCustomer"
                ]
                for sealed in (sealed_before_rotation, sealed_after_rotation)
            ]
            with_new_key = await after.register("alpha-officer", name="钱七")
            # The server uses the wall clock; its key ring, at chosen times:
            opener = EnvelopeOpener(after.services.keyring)
            new_key = after.services.keyring.primary_transport_key

    assert new_key.kid == rotated.primary_transport_key.kid
    assert key == {"keyId": new_key.kid}
    assert new_key.kid != old_key.kid
    assert [each["userErrors"] for each in outcomes] == [[], []]
    assert [each["customer"]["nameMasked"] for each in outcomes] == ["*四", "*六"]
    assert with_new_key["userErrors"] == []
    assert with_new_key["customer"]["nameMasked"] == "*七"

    last_moment = rotated_at + RETIREMENT - timedelta(seconds=1)
    retired = rotated_at + RETIREMENT
    opened = opener.open(sealed_phone(old_key, last_moment), field="phone", now=last_moment)
    assert opened == "13912345678"
    with pytest.raises(EnvelopeInvalid):
        opener.open(sealed_phone(old_key, retired), field="phone", now=retired)
    later = retired + timedelta(days=30)
    with pytest.raises(EnvelopeInvalid):
        opener.open(sealed_phone(old_key, later), field="phone", now=later)
    assert opener.open(sealed_phone(new_key, retired), field="phone", now=retired) == "13912345678"


async def test_after_a_second_rotation_the_first_key_is_gone(tmp_path: Path) -> None:
    async with embedded_stack(tmp_path) as first:
        first_key = first.services.keyring.primary_transport_key
        rotated_at = datetime.now(UTC)
        rotate(first, rotated_at - RETIREMENT - timedelta(hours=1))
        rotate(first, rotated_at)
        async with restarted(first) as after:
            kids = {info.key_id for info in after.services.keyring.describe(now=rotated_at)}
            stale = first.registration(name="李四")
            officer = await after.token("alpha-officer")
            body = await after.gql(REGISTER, {"input": stale}, token=officer)
            outcome = body["data"]["registerCustomer"]

    assert first_key.kid not in kids
    assert outcome["customer"] is None
    assert {(tuple(each["field"]), each["code"]) for each in outcome["userErrors"]} == {
        (("name",), "ENVELOPE_INVALID"),
        (("idNumber",), "ENVELOPE_INVALID"),
        (("phone",), "ENVELOPE_INVALID"),
    }


@pytest.mark.usefixtures("cli_environment", "restore_logging")
async def test_reencrypt_moves_every_customer_to_the_new_data_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with embedded_stack(tmp_path) as before:
        await register_customers(before, 5)
        payload = await before.register("beta-officer", name="周九")
        assert payload["userErrors"] == []
        old_data_key = before.services.keyring.primary_data_key.key_id
        old_transport_kid = before.services.keyring.primary_transport_key.kid
        rows_before = await stored(before)
        shown_before = await masked_customers(before)
        rotated_at = datetime.now(UTC)
        rotated = rotate(before, rotated_at)
        capsys.readouterr()

        first_exit = await run_cli("db", "reencrypt", "--batch-size", "2")
        first_output = customer_lines(capsys.readouterr().out)
        rows_after = await stored(before)
        second_exit = await run_cli("db", "reencrypt", "--batch-size", "2")
        second_output = customer_lines(capsys.readouterr().out)
        list_exit = await run_cli("keys", "list")
        listed = [line.split() for line in capsys.readouterr().out.splitlines()]

        async with restarted(before) as after:
            shown_after = await masked_customers(after)

    new_data_key = rotated.primary_data_key.key_id
    assert new_data_key != old_data_key
    assert len(rows_before) == 6
    assert {row.key_id for row in rows_before.values()} == {old_data_key}
    assert first_exit == 0
    assert first_output == [
        "re-encrypted 2/6 customers",
        "re-encrypted 4/6 customers",
        "re-encrypted 6/6 customers",
        "done: 6 customers,",
    ]
    assert rows_after.keys() == rows_before.keys()
    for customer_id, row in rows_after.items():
        old = rows_before[customer_id]
        assert row.key_id == new_data_key
        for column in ("name_ct", "id_number_ct", "phone_ct"):
            assert getattr(row, column) != getattr(old, column)
            # version 1, then the key id, big-endian
            assert getattr(row, column)[:5] == b"\x01" + new_data_key.to_bytes(4, "big")
        assert (row.id_number_bidx, row.phone_bidx) == (old.id_number_bidx, old.phone_bidx)
    assert shown_after == shown_before
    assert len(shown_after) == 6
    assert second_exit == 0
    assert second_output == ["done: 0 customers,"]
    assert list_exit == 0
    assert [(line[0], line[1], line[2]) for line in listed] == [
        ("transport", old_transport_kid, "decrypt-only"),
        ("transport", rotated.primary_transport_key.kid, "primary"),
        ("data", str(old_data_key), "decrypt-only"),
        ("data", str(new_data_key), "primary"),
    ]
    assert listed[0][-2:] == ["retires", (rotated_at + RETIREMENT).isoformat()]
    assert listed[1][-2:] == ["retires", "-"]


@pytest.mark.usefixtures("cli_environment", "restore_logging")
async def test_an_interrupted_reencryption_resumes_where_it_stopped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    class Killed(Exception):
        pass

    def killed_after_first_batch(done: int, total: int) -> None:
        raise Killed

    async with embedded_stack(tmp_path) as before:
        await register_customers(before, 5)
        shown_before = await masked_customers(before)
        rotated = rotate(before, datetime.now(UTC))
        new_data_key = rotated.primary_data_key.key_id
        async with restarted(before) as after:
            session = after.services.database.session()
            try:
                with pytest.raises(Killed):
                    await reencrypt_customers(
                        unit_of_work=session.unit_of_work,
                        vault=after.services.vault,
                        now=datetime.now(UTC),
                        batch_size=2,
                        progress=killed_after_first_batch,
                    )
            finally:
                await session.close()
            interrupted = [row.key_id for row in (await stored(after)).values()]
            capsys.readouterr()

            exit_code = await run_cli("db", "reencrypt", "--batch-size", "1")
            output = customer_lines(capsys.readouterr().out)
            finished = [row.key_id for row in (await stored(after)).values()]
            shown_after = await masked_customers(after)

    assert interrupted.count(new_data_key) == 2
    assert exit_code == 0
    assert output == [
        "re-encrypted 1/3 customers",
        "re-encrypted 2/3 customers",
        "re-encrypted 3/3 customers",
        "done: 3 customers,",
    ]
    assert finished == [new_data_key] * 5
    assert shown_after == shown_before


MERCHANT_DETAILS = """
query($id: ID!) {
  node(id: $id) {
    ... on Merchant { contactPhoneMasked settlementAccountLast4 legalRepresentativeIdMasked }
  }
}
"""


@pytest.mark.usefixtures("cli_environment", "restore_logging")
async def test_reencrypt_moves_every_merchant_to_the_new_data_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with embedded_stack(tmp_path) as before:
        officer = await before.token("alpha-officer")
        applied = [(await apply(before, officer))["merchant"]["id"] for _ in range(3)]
        shown_before = [
            (await before.gql(MERCHANT_DETAILS, {"id": each}, token=officer))["data"]["node"]
            for each in applied
        ]
        old_data_key = before.services.keyring.primary_data_key.key_id
        rows_before = await stored_merchants(before)
        rotated = rotate(before, datetime.now(UTC))
        capsys.readouterr()

        exit_code = await run_cli("db", "reencrypt", "--batch-size", "2")
        output = capsys.readouterr().out.splitlines()
        rows_after = await stored_merchants(before)

        async with restarted(before) as after:
            token = await after.token("alpha-officer")
            shown_after = [
                (await after.gql(MERCHANT_DETAILS, {"id": each}, token=token))["data"]["node"]
                for each in applied
            ]

    new_data_key = rotated.primary_data_key.key_id
    assert exit_code == 0
    assert "re-encrypted 2/3 merchants" in output
    assert "re-encrypted 3/3 merchants" in output
    assert "3 merchants and 0 village households re-encrypted" in output[-1]
    assert {row.key_id for row in rows_before.values()} == {old_data_key}
    for merchant_id, row in rows_after.items():
        assert row.key_id == new_data_key
        for column in ("contact_phone_ct", "settlement_account_ct", "legal_representative_id_ct"):
            assert getattr(row, column) != getattr(rows_before[merchant_id], column)
            assert getattr(row, column)[:5] == b"\x01" + new_data_key.to_bytes(4, "big")
    assert shown_after == shown_before
    assert all(each["contactPhoneMasked"] for each in shown_after)


async def stored_merchants(stack: Stack) -> dict[uuid.UUID, Any]:
    async with stack.services.database.primary.connect() as connection:
        result = await connection.execute(
            select(
                merchants.c.id,
                merchants.c.key_id,
                merchants.c.contact_phone_ct,
                merchants.c.settlement_account_ct,
                merchants.c.legal_representative_id_ct,
            )
        )
        return {row.id: row for row in result}


@pytest.mark.usefixtures("cli_environment", "restore_logging")
async def test_reencrypt_moves_every_village_household_to_the_new_data_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with embedded_stack(tmp_path) as before:
        setup = await village_bank(before)
        officer = await before.token(setup.username("o1"))
        await upload(before, officer, setup.village_id, roster_csv([household(before)]))
        await upload(before, officer, setup.village_id, roster_csv([household(before)]))
        shown_before = await households(before, officer, setup.village_id)
        rows_before = await stored_households(before)
        rotated = rotate(before, datetime.now(UTC))
        capsys.readouterr()

        exit_code = await run_cli("db", "reencrypt")
        output = capsys.readouterr().out.splitlines()
        rows_after = await stored_households(before)

        async with restarted(before) as after:
            token = await after.token(setup.username("o1"))
            shown_after = await households(after, token, setup.village_id)

    new_data_key = rotated.primary_data_key.key_id
    assert exit_code == 0
    assert "re-encrypted 2/2 village households" in output
    assert output[-1].endswith("and 2 village households re-encrypted")
    for household_id, row in rows_after.items():
        assert row.key_id == new_data_key
        for column in ("name_ct", "id_number_ct", "phone_ct"):
            assert getattr(row, column) != getattr(rows_before[household_id], column)
            assert getattr(row, column)[:5] == b"\x01" + new_data_key.to_bytes(4, "big")
    assert shown_after == shown_before


async def stored_households(stack: Stack) -> dict[uuid.UUID, Any]:
    async with stack.services.database.primary.connect() as connection:
        result = await connection.execute(select(village_households))
        return {row.id: row for row in result}
