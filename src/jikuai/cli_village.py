"""`jikuai village import FILE --village CODE`: a village's roster from a CSV or XLSX file."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any, TextIO

from jikuai.config import Settings
from jikuai.container import build_services
from jikuai.domain.shared.errors import DomainError, ErrorCode
from jikuai.domain.villages.model import RosterImport
from jikuai.domain.villages.rosters import RowError
from jikuai.roster_files import RosterFileError, import_roster_file

VILLAGE_IMPORT_HELP = """\
Import a village's household roster (花名册) for whole-village credit (整村授信): every row is
checked, matched to a known household by its head's ID number (updated, never duplicated),
encrypted, scored with 吉农快贷's scorecard, and given a pre-approved line and a whitelist entry.

The file is CSV (UTF-8, a BOM is accepted) or XLSX (its first sheet). The header names the
columns, in any order, in English or Chinese; other columns are ignored:

  name            户主姓名    head of household's name                       required
  id_number       身份证号    resident ID number                             required
  phone           手机号      mainland mobile number                         required
  family_size     家庭人口    people in the household, 1-30                  required
  land_area       耕地面积    land in mu (亩), to 0.01                        required
  main_business   主营业务    e.g. 玉米种植, up to 60 characters
  annual_income   年收入      the household's estimated income, CNY           required
  existing_debts  现有负债    what it owes elsewhere, CNY (empty: none)
  peer_rating     评议等级    EXCELLENT, GOOD, FAIR, POOR (优秀, 良好, 一般, 较差) required
  reviewed_on     评议日期    the peer review's date, 2026-11-30              required
  reviewers       评议人      the review panel, up to 100 characters

Each chunk of 1,000 rows is one transaction: an interrupted import resumes where it stopped when
the same file is imported again, and a file imported again changes nothing. Refused rows are
printed to stderr (line, column, code), a progress bar while it runs, a summary to stdout.

Exit status: 0 every row imported, 1 some rows refused, 2 the file cannot be imported (unreadable,
no header with the required columns), the village is unknown, or its institution does not offer
吉农快贷 (JNKD).
"""


def add_village_commands(commands: Any) -> None:
    """Register `jikuai village …` on the command's subparsers."""
    village = commands.add_parser("village", help="whole-village credit (整村授信)")
    actions = village.add_subparsers(required=True, metavar="ACTION")
    roster = actions.add_parser(
        "import",
        help="import a village's household roster from a CSV or XLSX file",
        description=VILLAGE_IMPORT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    roster.add_argument("file", type=Path, help="the roster, .csv or .xlsx")
    roster.add_argument("--village", required=True, help="village code")
    roster.set_defaults(command=_village_import)


def _village_import(settings: Settings, arguments: argparse.Namespace) -> int:
    path: Path = arguments.file
    bar = ProgressBar(sys.stderr)

    async def run() -> RosterImport:
        services = build_services(settings)
        try:
            return await import_roster_file(
                services,
                path,
                village_code=arguments.village,
                progress=bar.show,
                refused=bar.refused,
            )
        finally:
            await services.close()

    try:
        record = asyncio.run(run())
    except RosterFileError as error:
        bar.close()
        print(f"jikuai: {path}: {error}", file=sys.stderr)
        return 2
    except DomainError as error:
        bar.close()
        print(f"jikuai: {_refusal(error.code, arguments.village)}", file=sys.stderr)
        return 2
    bar.close()
    print(
        f"{path}: {record.rows} rows: {record.inserted} inserted, {record.updated} updated, "
        f"{record.unchanged} unchanged, {record.refused} refused; "
        f"{record.pre_approved} pre-approved"
    )
    return 1 if record.refused else 0


def _refusal(code: ErrorCode, village: str) -> str:
    if code is ErrorCode.NOT_FOUND:
        return f"no village {village!r}"
    if code is ErrorCode.PRODUCT_NOT_OFFERED:
        return f"the institution of village {village!r} does not offer 吉农快贷 (JNKD)"
    return f"village {village!r}: {code}"


class ProgressBar:
    """Rows done out of the file's, redrawn in place on a terminal and a line per chunk
    otherwise; refused rows are printed above it."""

    WIDTH = 30

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._drawn = False

    def show(self, record: RosterImport, total: int) -> None:
        done = min(record.lines_done - 1, total) if total else record.rows
        share = done / total if total else 1.0
        filled = int(share * self.WIDTH)
        line = f"[{'#' * filled}{'-' * (self.WIDTH - filled)}] {share:4.0%} {done}/{total} rows"
        if self._stream.isatty():
            self._stream.write(f"\r{line}")
            self._drawn = True
        else:
            self._stream.write(f"{line}\n")
        self._stream.flush()

    def refused(self, error: RowError) -> None:
        from jikuai.schema.errors import message_for

        self.close()
        column = f" {error.column}:" if error.column else ""
        message = message_for(error.code, "en")
        self._stream.write(f"line {error.line}:{column} {error.code} ({message})\n")

    def close(self) -> None:
        """End the bar's line, so what follows starts on its own."""
        if self._drawn:
            self._stream.write("\n")
            self._drawn = False
