"""The `jikuai` command: serve, migrate, seed, manage keys and service accounts, re-encrypt,
run daily jobs."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta

from jikuai.config import Settings
from jikuai.container import build_services, load_keyring
from jikuai.domain.shared.calendar import business_date
from jikuai.domain.shared.errors import DomainError
from jikuai.logs import configure_logging, logging_config
from jikuai.persistence.engine import DatabaseSession
from jikuai.persistence.migrations import upgrade
from jikuai.security import KeyRingError, load_or_create, rotate


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    arguments = parser.parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level)
    command: Callable[[Settings, argparse.Namespace], int] = arguments.command
    try:
        return command(settings, arguments)
    except KeyRingError as error:
        print(f"jikuai: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jikuai", description="Jikuai (吉快) backend")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="worker processes")
    serve.set_defaults(command=_serve)

    db = commands.add_parser("db", help="database").add_subparsers(required=True, metavar="ACTION")
    db.add_parser("upgrade", help="apply migrations").set_defaults(command=_db_upgrade)
    reencrypt = db.add_parser("reencrypt", help="re-encrypt under the current data key")
    reencrypt.add_argument("--batch-size", type=int, default=500)
    reencrypt.set_defaults(command=_db_reencrypt)

    seed = commands.add_parser("seed", help="seed data").add_subparsers(
        required=True, metavar="SET"
    )
    seed.add_parser("demo", help="demo institutions, staff and customers").set_defaults(
        command=_seed_demo
    )

    keys = commands.add_parser("keys", help="key ring").add_subparsers(
        required=True, metavar="ACTION"
    )
    keys.add_parser("generate", help="create the key ring").set_defaults(command=_keys_generate)
    keys.add_parser("rotate", help="new primary transport and data keys").set_defaults(
        command=_keys_rotate
    )
    keys.add_parser("list", help="every key and its state").set_defaults(command=_keys_list)

    clients = commands.add_parser("clients", help="service accounts").add_subparsers(
        required=True, metavar="ACTION"
    )
    create = clients.add_parser("create", help="a service account for one institution")
    create.add_argument("name", help="client id, e.g. yushu-core")
    create.add_argument("--institution", required=True, help="institution code")
    create.set_defaults(command=_clients_create)

    jobs = commands.add_parser("jobs", help="business-date jobs").add_subparsers(
        required=True, metavar="ACTION"
    )
    run = jobs.add_parser("run", help="run one job for a business date")
    run.add_argument("job", choices=sorted(JOBS), help="which job")
    run.add_argument(
        "--date",
        type=date.fromisoformat,
        default=None,
        help="business date (default: today; merchant-settlement: yesterday)",
    )
    run.set_defaults(command=_jobs_run)
    return parser


def _serve(settings: Settings, arguments: argparse.Namespace) -> int:
    import uvicorn

    load_keyring(settings)  # create development keys once, before workers start
    uvicorn.run(
        "jikuai.app:create_app",
        factory=True,
        host=arguments.host,
        port=arguments.port,
        workers=arguments.workers,
        log_config=logging_config(settings.log_level),
        access_log=False,
    )
    return 0


def _db_upgrade(settings: Settings, _: argparse.Namespace) -> int:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.primary_database_url)
    print("database is up to date")
    return 0


def _db_reencrypt(settings: Settings, arguments: argparse.Namespace) -> int:
    from jikuai.domain.customers.services import reencrypt_customers
    from jikuai.domain.identity.services import reencrypt_session_keys
    from jikuai.domain.merchants.protection import MerchantVault, reencrypt_merchants

    def progress(what: str) -> Callable[[int, int], None]:
        return lambda done, total: print(f"re-encrypted {done}/{total} {what}", flush=True)

    async def run() -> tuple[int, int, int]:
        services = build_services(settings)
        session = services.database.session()
        try:
            customers = await reencrypt_customers(
                unit_of_work=session.unit_of_work,
                vault=services.vault,
                now=datetime.now(UTC),
                batch_size=arguments.batch_size,
                progress=progress("customers"),
            )
            accounts = await reencrypt_session_keys(
                unit_of_work=session.unit_of_work,
                cipher=services.cipher,
                batch_size=arguments.batch_size,
                progress=progress("WeChat session keys"),
            )
            merchants = await reencrypt_merchants(
                unit_of_work=session.unit_of_work,
                vault=MerchantVault(services.cipher),
                now=datetime.now(UTC),
                batch_size=arguments.batch_size,
                progress=progress("merchants"),
            )
            return customers, accounts, merchants
        finally:
            await session.close()
            await services.close()

    customers, accounts, merchants = asyncio.run(run())
    print(
        f"done: {customers} customers, {accounts} WeChat session keys and {merchants} merchants "
        "re-encrypted"
    )
    return 0


def _jobs_run(settings: Settings, arguments: argparse.Namespace) -> int:
    """Run one job for a business date; no job may run for a date that has not come."""
    now = datetime.now(UTC)
    today = business_date(now)
    job = JOBS[arguments.job]
    # Settlement closes a day that is over, so by default yesterday's.
    on = arguments.date or (today - timedelta(days=1) if job is _merchant_settlement else today)
    if on > today:
        print(f"jikuai: {on} has not come yet (today is {today})", file=sys.stderr)
        return 2

    async def run() -> str:
        services = build_services(settings)
        session = services.database.session()
        try:
            return await job(on, session, now)
        finally:
            await session.close()
            await services.close()

    try:
        print(asyncio.run(run()))
    except DomainError:
        print(
            f"jikuai: {arguments.job} cannot run for {on} (a day closes once it is over)",
            file=sys.stderr,
        )
        return 2
    return 0


async def _credit_daily(on: date, session: DatabaseSession, now: datetime) -> str:
    """Accrual, overdue, classification and early warnings."""
    from jikuai.domain.credit.monitoring import run_credit_daily

    result = await run_credit_daily(on, unit_of_work=session.unit_of_work, now=now)
    return (
        f"credit-daily {result.business_date}: {result.loans} loans, {result.overdue} overdue, "
        f"{result.alerts_raised} alerts raised, "
        f"{result.applications_expired} applications and "
        f"{result.credit_lines_expired} credit lines expired"
    )


async def _points_expiry(on: date, session: DatabaseSession, now: datetime) -> str:
    """Points whose last day came before the date expire."""
    from jikuai.domain.points.expiry import expire_points

    result = await expire_points(on, unit_of_work=session.unit_of_work, now=now)
    return f"points-expiry {on}: {result.points} points of {result.customers} customers expired"


async def _points_release(on: date, session: DatabaseSession, now: datetime) -> str:
    """Pending points due by the date become spendable; unconfirmed redemptions lapse."""
    from jikuai.domain.points.expiry import release_points

    result = await release_points(on, unit_of_work=session.unit_of_work, now=now)
    return f"points-release {on}: {result.points} points of {result.customers} customers released"


async def _points_lapse(on: date, session: DatabaseSession, now: datetime) -> str:
    """Redemptions left unconfirmed past their window lapse and give their points back."""
    from jikuai.domain.points.redemption import lapse_overdue

    lapsed = await lapse_overdue(unit_of_work=session.unit_of_work, now=now, today=on)
    return f"points-lapse {on}: {lapsed} redemptions lapsed"


async def _merchant_settlement(on: date, session: DatabaseSession, now: datetime) -> str:
    """The day's redemptions, one settlement batch per merchant."""
    from jikuai.domain.points.settlement import settle_day

    result = await settle_day(
        on, unit_of_work=session.unit_of_work, now=now, today=business_date(now)
    )
    return (
        f"merchant-settlement {on}: {result.batches} batches, {result.points} points, "
        f"CNY {result.amount}"
    )


JOBS: dict[str, Callable[[date, DatabaseSession, datetime], Awaitable[str]]] = {
    "credit-daily": _credit_daily,
    "points-expiry": _points_expiry,
    "points-release": _points_release,
    "points-lapse": _points_lapse,
    "merchant-settlement": _merchant_settlement,
}


def _clients_create(settings: Settings, arguments: argparse.Namespace) -> int:
    from jikuai.domain.identity.clients import create_service_client

    async def run() -> str:
        services = build_services(settings)
        session = services.database.session()
        try:
            _client, secret = await create_service_client(
                session.unit_of_work(),
                name=arguments.name,
                institution_code=arguments.institution,
                now=datetime.now(UTC),
            )
            return secret
        finally:
            await session.close()
            await services.close()

    try:
        secret = asyncio.run(run())
    except DomainError as error:
        print(f"jikuai: cannot create {arguments.name!r}: {error.code}", file=sys.stderr)
        return 2
    print(f"client id:     {arguments.name.strip()}")
    print(f"client secret: {secret}")
    print("the secret is shown only now; sign in with the clientLogin mutation")
    return 0


def _seed_demo(settings: Settings, _: argparse.Namespace) -> int:
    if settings.is_production:
        print("jikuai: demo data is never created in production mode", file=sys.stderr)
        return 2
    from jikuai.demo import demo_pilot_codes, demo_usernames, seed_demo

    async def run() -> bool:
        services = build_services(settings)
        try:
            return await seed_demo(services)
        finally:
            await services.close()

    print("demo data created" if asyncio.run(run()) else "demo data already present")
    print(f"demo logins (password: {settings.demo_password}):")
    for username in demo_usernames():
        print(f"  {username}")
    pilots = demo_pilot_codes()
    print("merchant cashiers (merchantLogin): " + ", ".join(f"{c}-cashier" for c in pilots))
    print(
        "service accounts (clientLogin, the demo password as secret): "
        + ", ".join(f"{c}-core" for c in pilots)
    )
    print("customers: wechatLogin with code dev:<any-openid>, then registerCustomer")
    return 0


def _keys_generate(settings: Settings, _: argparse.Namespace) -> int:
    _ring, created = load_or_create(settings.key_directory, create=True, now=datetime.now(UTC))
    state = "created key ring in" if created else "key ring already exists in"
    print(f"{state} {settings.key_directory}")
    return 0


def _keys_rotate(settings: Settings, _: argparse.Namespace) -> int:
    rotated = rotate(
        settings.key_directory,
        now=datetime.now(UTC),
        retirement=settings.transport_key_retirement,
    )
    print(
        f"new primary transport key {rotated.primary_transport_key.kid} and data key "
        f"{rotated.primary_data_key.key_id}; restart the servers, then run `jikuai db reencrypt`"
    )
    return 0


def _keys_list(settings: Settings, _: argparse.Namespace) -> int:
    from jikuai.security import KeyRing

    now = datetime.now(UTC)
    for info in KeyRing.load(settings.key_directory).describe(now=now):
        retires = info.retires_at.isoformat() if info.retires_at else "-"
        created = info.created_at.isoformat()
        print(f"{info.kind:<10} {info.key_id:<24} {info.status:<13} {created}  retires {retires}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
