"""Demo whole-village credit for a pilot institution: its first village rated a credit village
and its roster imported, the pilot's demo farmer among forty made-up households, through the
same import the staff console and the command line use."""

from __future__ import annotations

import hashlib
import random
from dataclasses import replace
from datetime import date, datetime, timedelta

from jikuai.container import Services
from jikuai.domain.customers.identity_numbers import id_check_character
from jikuai.domain.shared.calendar import business_date
from jikuai.domain.tenancy.actors import Actor
from jikuai.domain.tenancy.model import VillageRating
from jikuai.domain.villages.importing import RosterContent, import_roster
from jikuai.domain.villages.model import RosterSource
from jikuai.domain.villages.rosters import Column, RosterRow
from jikuai.persistence.engine import DatabaseSession

DEMO_HOUSEHOLDS = 40
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
_GIVEN = "建国春梅志强秀兰玉珍国庆海军丽华文明淑芬振华凤英德胜桂兰永清"
_BUSINESS = ("玉米种植", "水稻种植", "大豆种植", "生猪养殖", "肉牛养殖", "农资经营", "外出务工")
_RATINGS = ("EXCELLENT", "GOOD", "GOOD", "GOOD", "FAIR", "FAIR", "POOR")
REVIEWERS = "村党支部书记;村委会主任;客户经理"


async def seed_villages(
    services: Services,
    session: DatabaseSession,
    code: str,
    area_code: str,
    farmer: tuple[str, str, str],
    now: datetime,
) -> None:
    """Rate the pilot's first village and import its roster; `farmer` is the demo farmer's
    (name, ID number, phone), pre-approved with the rest."""
    reads = await session.reads()
    officer = await reads.tenancy.staff_by_username(f"{code}-officer")
    village = await reads.tenancy.village_by_code(f"{code}-v01")
    if officer is None or village is None:
        raise RuntimeError(f"demo officer or village of {code} missing")
    today = business_date(now)
    async with session.unit_of_work() as uow:
        await uow.tenancy.save_village(
            replace(
                village,
                committee_contact="村委会主任",
                committee_phone="0431-83000000",
                credit_rating=VillageRating.AA,
                rated_on=today - timedelta(days=30),
                raters="镇政府;农商行;村委会",
            )
        )
        await uow.commit()
    rows = _roster(code, area_code, farmer, reviewed_on=today - timedelta(days=14))
    await import_roster(
        rows,
        village_id=village.id,
        content=RosterContent(
            RosterSource.FILE, "demo-roster.csv", hashlib.sha256(code.encode()).digest()
        ),
        actor=Actor.of_staff(officer),
        unit_of_work=session.unit_of_work,
        vault=services.households,
        now=now,
        today=today,
        request_id="demo-seed",
    )


def _roster(
    code: str, area_code: str, farmer: tuple[str, str, str], *, reviewed_on: date
) -> list[RosterRow]:
    """The demo farmer, then made-up households, the same on every run."""
    made_up = random.Random(f"{code} roster")  # noqa: S311 - made-up demo data, reproducible
    name, id_number, phone = farmer
    rows = [
        _row(2, reviewed_on, name, id_number, phone, "4", "30", "玉米种植", "60000", "0", "GOOD")
    ]
    for line in range(3, 3 + DEMO_HOUSEHOLDS):
        body = (
            f"{area_code}{made_up.randint(1958, 2000)}{made_up.randint(1, 12):02d}"
            f"{made_up.randint(1, 28):02d}{made_up.randint(100, 999)}"
        )
        rows.append(
            _row(
                line,
                reviewed_on,
                made_up.choice(_SURNAMES) + "".join(made_up.sample(_GIVEN, 2)),
                body + id_check_character(body),
                f"13{made_up.randint(0, 999_999_999):09d}",
                str(made_up.randint(1, 7)),
                f"{made_up.randint(5, 120)}.{made_up.randint(0, 9)}",
                made_up.choice(_BUSINESS),
                str(made_up.randrange(20_000, 200_000, 1_000)),
                str(made_up.choice((0, 0, 10_000, 30_000, 80_000))),
                made_up.choice(_RATINGS),
            )
        )
    return rows


def _row(line: int, reviewed_on: date, *values: str) -> RosterRow:
    columns = (
        Column.NAME,
        Column.ID_NUMBER,
        Column.PHONE,
        Column.FAMILY_SIZE,
        Column.LAND_AREA,
        Column.MAIN_BUSINESS,
        Column.ANNUAL_INCOME,
        Column.EXISTING_DEBTS,
        Column.PEER_RATING,
    )
    cells = dict(zip(columns, values, strict=True))
    return RosterRow(
        line, cells | {Column.REVIEWED_ON: reviewed_on.isoformat(), Column.REVIEWERS: REVIEWERS}
    )
