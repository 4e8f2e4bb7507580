"""The `jikuai` command: serve, migrate, seed, manage keys and service accounts, re-encrypt,
run a job or the worker that runs them all, import performance facts and village rosters,
register the clients' persisted operations."""

from __future__ import annotations

import argparse
import asyncio
import csv
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TextIO

import httpx

from jikuai.cli_operations import add_operation_commands
from jikuai.cli_village import add_village_commands
from jikuai.config import Settings
from jikuai.container import build_services, load_keyring
from jikuai.domain.performance.facts import (
    MAX_ROWS,
    FactRow,
    ImportReport,
    RowError,
    RowField,
    import_rows,
)
from jikuai.domain.scheduling.model import ClaimRule, JobRun, RunStatus
from jikuai.domain.scheduling.registry import JOBS_BY_NAME
from jikuai.domain.shared.calendar import business_date
from jikuai.domain.shared.errors import DomainError, ErrorCode
from jikuai.integrations.alerts import WebhookAlerts
from jikuai.logs import configure_logging, logging_config
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
    run = jobs.add_parser("run", help="run one job for a business date, recording the run")
    run.add_argument("job", choices=sorted(JOBS_BY_NAME), help="which job")
    run.add_argument(
        "--date",
        type=date.fromisoformat,
        default=None,
        help="business date (default: today; merchant-settlement and performance-close: yesterday)",
    )
    run.add_argument(
        "--force", action="store_true", help="run again for a date that already succeeded"
    )
    run.set_defaults(command=_jobs_run)
    commands.add_parser(
        "worker", help="run every job on its schedule (调度中心) until SIGTERM or SIGINT"
    ).set_defaults(command=_worker)

    kpi = commands.add_parser("kpi", help="staff performance (绩效)").add_subparsers(
        required=True, metavar="ACTION"
    )
    facts = kpi.add_parser(
        "import",
        help="import core banking's daily facts from a CSV file",
        description=KPI_IMPORT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    facts.add_argument("file", type=Path, help="the CSV file, UTF-8 (with or without BOM)")
    facts.add_argument("--institution", required=True, help="institution code")
    facts.set_defaults(command=_kpi_import)

    add_village_commands(commands)
    add_operation_commands(commands)
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
    from jikuai.domain.villages.protection import reencrypt_households

    def progress(what: str) -> Callable[[int, int], None]:
        return lambda done, total: print(f"re-encrypted {done}/{total} {what}", flush=True)

    async def run() -> tuple[int, int, int, int]:
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
            households = await reencrypt_households(
                unit_of_work=session.unit_of_work,
                vault=services.households,
                now=datetime.now(UTC),
                batch_size=arguments.batch_size,
                progress=progress("village households"),
            )
            return customers, accounts, merchants, households
        finally:
            await session.close()
            await services.close()

    customers, accounts, merchants, households = asyncio.run(run())
    print(
        f"done: {customers} customers, {accounts} WeChat session keys, {merchants} merchants and "
        f"{households} village households re-encrypted"
    )
    return 0


def _jobs_run(settings: Settings, arguments: argparse.Namespace) -> int:
    """Run one job for a business date, recorded like the worker's runs. A date that succeeded
    is run again only with --force; no job runs for a date that has not come."""
    from jikuai.worker import connection, runner_for, worker_name

    job = JOBS_BY_NAME[arguments.job]
    today = business_date(datetime.now(UTC))
    latest = job.schedule.latest_allowed(today)
    on: date = arguments.date or latest
    if on > today:
        print(f"jikuai: {on} has not come yet (today is {today})", file=sys.stderr)
        return 2
    if on > latest:
        print(
            f"jikuai: {job.name} cannot run for {on} (a day closes once it is over)",
            file=sys.stderr,
        )
        return 2
    # An operator's run has no limit of attempts; a frequent job's day is never done.
    rule = ClaimRule(again=arguments.force or not job.is_daily, max_attempts=None)

    async def run() -> tuple[JobRun | None, JobRun | None]:
        services = build_services(settings)
        try:
            async with httpx.AsyncClient() as http:
                alerts = WebhookAlerts(settings.alert_webhook_url, http)
                runner = runner_for(services, alerts, worker=worker_name("cli:"))
                finished = await runner.run(job, on, rule=rule)
            if finished is not None:
                return finished, None
            async with connection(services.database) as unit_of_work, unit_of_work() as uow:
                return None, await uow.job_runs.run_of(job.name, on)
        finally:
            await services.close()

    finished, existing = asyncio.run(run())
    if finished is None:
        return _not_run(job.name, on, existing)
    if finished.status is RunStatus.FAILED:
        print(f"jikuai: {job.name} for {on} failed: {finished.error}", file=sys.stderr)
        return 1
    print(finished.summary)
    return 0


def _not_run(name: str, on: date, existing: JobRun | None) -> int:
    """Why a run was not made: the date is done (0), or another worker holds it (1)."""
    if existing is not None and existing.status is RunStatus.SUCCEEDED:
        print(
            f"{name} {on}: already done (attempt {existing.attempt}, finished "
            f"{existing.finished_at}); --force runs it again"
        )
        return 0
    holder = f" by {existing.worker} since {existing.started_at}" if existing else ""
    print(f"jikuai: {name} for {on} is being run{holder}", file=sys.stderr)
    return 1


def _worker(settings: Settings, _: argparse.Namespace) -> int:
    """Run the schedule until SIGTERM or SIGINT."""
    from jikuai.worker import Worker, runner_for, worker_name

    async def run() -> None:
        services = build_services(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        try:
            async with httpx.AsyncClient() as http:
                alerts = WebhookAlerts(settings.alert_webhook_url, http)
                await Worker(runner_for(services, alerts, worker=worker_name())).serve(stop)
        finally:
            await services.close()

    asyncio.run(run())
    return 0


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


KPI_IMPORT_HELP = """\
Import daily facts (绩效数据) that core banking reports: deposit balances, low-cost deposit
balances, social security cards issued and activated.

The file is CSV in UTF-8 (a BOM is accepted) with this header, columns in any order:

  date,source,key,measure,staff,customer_id_number,value

  date                the business date, 2026-11-30; not in the future
  source              the reporting system: 1-32 letters, digits, _ or -; not PLATFORM
  key                 the system's identifier of the fact within date and source, 1-64 chars
  measure             DEPOSIT_BALANCE, LOW_COST_DEPOSIT_BALANCE, SOCIAL_SECURITY_CARDS_ISSUED
                      or SOCIAL_SECURITY_CARDS_ACTIVATED
  staff               a staff member's username, or empty
  customer_id_number  a customer's resident ID number, or empty (not with staff)
  value               CNY to the fen, or a whole number of cards; 0 to 999999999999.99

A fact is identified by (date, source, key): a row sent again changes nothing, a changed value
replaces the old one. Each chunk of 1,000 rows is one transaction, so an interrupted import is
simply run again. Refused lines are printed to stderr (line, field, code), a summary to stdout.

Exit status: 0 every row imported, 1 some rows refused, 2 the file cannot be read, its header
is wrong, or the institution is unknown.
"""


class _CannotImport(Exception):
    """The import cannot go on: the institution is unknown, or the file is unreadable or not
    CSV of facts (from this point on)."""


@dataclass
class _Tally:
    """What an import has done so far."""

    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0

    def add(self, rows: int, report: ImportReport) -> None:
        self.rows += rows
        self.inserted += report.inserted
        self.updated += report.updated
        self.unchanged += report.unchanged
        self.refused += len({error.number for error in report.errors})

    def summary(self, path: Path) -> str:
        return (
            f"{path}: {self.rows} rows: {self.inserted} inserted, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.refused} refused"
        )


def _kpi_import(settings: Settings, arguments: argparse.Namespace) -> int:
    path: Path = arguments.file
    try:
        source = path.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        print(f"jikuai: cannot read {path}: {error.strerror}", file=sys.stderr)
        return 2
    tally = _Tally()

    def reported(rows: int, report: ImportReport) -> None:
        tally.add(rows, report)
        _print_row_errors(report)

    with source:
        try:
            asyncio.run(_import_fact_file(settings, arguments.institution, source, reported))
        except _CannotImport as error:
            if tally.rows:
                print(tally.summary(path))  # the chunks before the fault are saved
            print(f"jikuai: {path}: {error}", file=sys.stderr)
            return 2
    print(tally.summary(path))
    return 1 if tally.refused else 0


async def _import_fact_file(
    settings: Settings,
    institution_code: str,
    source: TextIO,
    reported: Callable[[int, ImportReport], None],
) -> None:
    """Import the file chunk by chunk, one transaction each, reporting each chunk's rows and
    outcome once it is saved."""
    now = datetime.now(UTC)
    services = build_services(settings)
    session = services.database.session()
    try:
        async with session.unit_of_work() as uow:
            institution = await uow.tenancy.institution_by_code(institution_code)
        if institution is None or not institution.accepts_customers:
            raise _CannotImport(f"no member institution {institution_code!r}")
        for chunk, line_errors in _fact_chunks(source):
            report = await import_rows(
                session.unit_of_work(),
                institution.id,
                chunk,
                cache=services.cache,
                id_number_index=services.vault.id_number_index,
                now=now,
                today=business_date(now),
                known_errors=line_errors,
            )
            reported(len(chunk) + len(line_errors), report)
    finally:
        await session.close()
        await services.close()


def _fact_chunks(source: TextIO) -> Iterator[tuple[list[FactRow], list[RowError]]]:
    """The file's rows, MAX_ROWS at a time, numbered by their first line in the file, with
    the lines whose cells do not match the header. Blank lines are skipped."""
    reader = csv.reader(source)
    line = 0
    try:
        header = next(reader, [])
        columns = [name.strip().lower() for name in header]
        if sorted(columns) != sorted(RowField):
            raise _CannotImport(f"the header must name the columns {','.join(RowField)}")
        chunk: list[FactRow] = []
        errors: list[RowError] = []
        line = reader.line_num
        for cells in reader:
            number, line = line + 1, reader.line_num
            if not cells:
                continue
            if len(cells) != len(columns):
                errors.append(RowError(number, None, ErrorCode.INVALID_LENGTH))
            else:
                chunk.append(FactRow(number=number, **dict(zip(columns, cells, strict=True))))
            if len(chunk) + len(errors) >= MAX_ROWS:
                yield chunk, errors
                chunk, errors = [], []
        if chunk or errors:
            yield chunk, errors
    except UnicodeDecodeError:
        raise _CannotImport(f"not UTF-8 text beyond line {line}") from None
    except csv.Error as error:
        raise _CannotImport(f"line {reader.line_num}: {error}") from None


def _print_row_errors(report: ImportReport) -> None:
    from jikuai.schema.errors import message_for

    for error in report.errors:
        field = f" {error.field}:" if error.field else ""
        message = message_for(error.code, "en")
        print(f"line {error.number}:{field} {error.code} ({message})", file=sys.stderr)


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
