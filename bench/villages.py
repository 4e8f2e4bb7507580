"""The whole-village credit phase (整村授信): a synthetic province's household rosters, one CSV
file per village, imported on PostgreSQL through the project's roster importer.

The requirement: 52 member institutions, 1,211 villages and 1.62 million households imported at
20,000 rows a second or more end to end (validation, encryption, blind index, the 吉农快贷
scorecard, the pre-approved credit line and the whitelist entry), the province in under 90
seconds, with memory bounded: the files are streamed, never held whole.

The province is a plan (institutions, branches, villages and how many households each village
has) drawn from a seeded generator; the households themselves are drawn village by village as
their file is written, so neither the generator nor the files' writer ever holds more than one
village. Every value comes from a random generator seeded by the seed and the village's code, so
the same seed on the same day writes the same files. Each institution is a county of Jilin with
its own area code, and an institution never gives two households the same birth date and
sequence number, so ID numbers are unique across the province. About one row in 200 is bad on
purpose (a wrong check character, a mobile number that is not one, a negative income) and must
be refused on its own.

The import runs in fresh processes (spawned, so that their peak RSS is the import's own): one
process taking every file, then, on a database reset and seeded again, two processes taking
half the households each. Afterwards the database is checked against the files, and a sample of
files is imported again, which must change nothing.
"""

from __future__ import annotations

import asyncio
import cProfile
import csv
import hashlib
import io
import json
import math
import multiprocessing
import os
import pstats
import queue
import random
import resource
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import accumulate, groupby
from multiprocessing.queues import Queue
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import text

import jikuai
from bench import servers
from jikuai.config import DEMO_PASSWORD, Settings
from jikuai.container import Services, build_services
from jikuai.demo_products import DEMO_LPR, demo_products
from jikuai.domain.credit.catalog import DefineProduct, create_product, publish_lpr
from jikuai.domain.customers.identity_numbers import id_check_character
from jikuai.domain.ports import UnitOfWork
from jikuai.domain.shared.ids import new_id
from jikuai.domain.tenancy import model as tenancy
from jikuai.domain.tenancy.actors import Actor
from jikuai.domain.villages.importing import WHITELIST_SOURCE
from jikuai.persistence.engine import create_engine
from jikuai.roster_files import import_roster_file

DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/jikuai_bench_villages"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
GENERATOR = 1  # raise when the files change: files written by another version are written again
SEED = "jikuai-bench-villages"

INSTITUTIONS = 52
VILLAGES = 1_211
HOUSEHOLDS = 1_620_000
BAD_SHARE = 0.005
TARGET_ROWS_PER_SECOND = 20_000
TARGET_SECONDS = 90
PRODUCT_CODE = "JNKD"
SAMPLE_FILES = 24  # imported again after the run; every row must come back unchanged

HEADER = (
    "name",
    "id_number",
    "phone",
    "family_size",
    "land_area",
    "main_business",
    "annual_income",
    "existing_debts",
    "peer_rating",
    "reviewed_on",
    "reviewers",
)
MARKER = "roster-files.json"

# The province ----------------------------------------------------------------------------------

# (code, short name, city, county, area code): 52 counties and districts of Jilin with their GB/T
# 2260 codes. The demo's five pilots (yushu, yanbian, dunhua, wangqing, yitong) are not among
# them, nor are four central districts of Changchun.
_COUNTIES = (
    ("shuangyang", "双阳", "长春市", "双阳区", "220112"),
    ("jiutai", "九台", "长春市", "九台区", "220113"),
    ("nongan", "农安", "长春市", "农安县", "220122"),
    ("dehui", "德惠", "长春市", "德惠市", "220183"),
    ("gongzhuling", "公主岭", "长春市", "公主岭市", "220184"),
    ("lvyuan", "绿园", "长春市", "绿园区", "220106"),
    ("changyi", "昌邑", "吉林市", "昌邑区", "220202"),
    ("longtan", "龙潭", "吉林市", "龙潭区", "220203"),
    ("chuanying", "船营", "吉林市", "船营区", "220204"),
    ("fengman", "丰满", "吉林市", "丰满区", "220211"),
    ("yongji", "永吉", "吉林市", "永吉县", "220221"),
    ("jiaohe", "蛟河", "吉林市", "蛟河市", "220281"),
    ("huadian", "桦甸", "吉林市", "桦甸市", "220282"),
    ("shulan", "舒兰", "吉林市", "舒兰市", "220283"),
    ("panshi", "磐石", "吉林市", "磐石市", "220284"),
    ("tiexi", "铁西", "四平市", "铁西区", "220302"),
    ("tiedong", "铁东", "四平市", "铁东区", "220303"),
    ("lishu", "梨树", "四平市", "梨树县", "220322"),
    ("shuangliao", "双辽", "四平市", "双辽市", "220382"),
    ("longshan", "龙山", "辽源市", "龙山区", "220402"),
    ("xian", "西安", "辽源市", "西安区", "220403"),
    ("dongfeng", "东丰", "辽源市", "东丰县", "220421"),
    ("dongliao", "东辽", "辽源市", "东辽县", "220422"),
    ("dongchang", "东昌", "通化市", "东昌区", "220502"),
    ("erdaojiang", "二道江", "通化市", "二道江区", "220503"),
    ("tonghua", "通化", "通化市", "通化县", "220521"),
    ("huinan", "辉南", "通化市", "辉南县", "220523"),
    ("liuhe", "柳河", "通化市", "柳河县", "220524"),
    ("meihekou", "梅河口", "通化市", "梅河口市", "220581"),
    ("jian", "集安", "通化市", "集安市", "220582"),
    ("hunjiang", "浑江", "白山市", "浑江区", "220602"),
    ("jiangyuan", "江源", "白山市", "江源区", "220605"),
    ("fusong", "抚松", "白山市", "抚松县", "220621"),
    ("jingyu", "靖宇", "白山市", "靖宇县", "220622"),
    ("changbai", "长白", "白山市", "长白朝鲜族自治县", "220623"),
    ("linjiang", "临江", "白山市", "临江市", "220681"),
    ("ningjiang", "宁江", "松原市", "宁江区", "220702"),
    ("qianguo", "前郭", "松原市", "前郭尔罗斯蒙古族自治县", "220721"),
    ("changling", "长岭", "松原市", "长岭县", "220722"),
    ("qianan", "乾安", "松原市", "乾安县", "220723"),
    ("fuyu", "扶余", "松原市", "扶余市", "220781"),
    ("taobei", "洮北", "白城市", "洮北区", "220802"),
    ("zhenlai", "镇赉", "白城市", "镇赉县", "220821"),
    ("tongyu", "通榆", "白城市", "通榆县", "220822"),
    ("taonan", "洮南", "白城市", "洮南市", "220881"),
    ("daan", "大安", "白城市", "大安市", "220882"),
    ("yanji", "延吉", "延边州", "延吉市", "222401"),
    ("tumen", "图们", "延边州", "图们市", "222402"),
    ("hunchun", "珲春", "延边州", "珲春市", "222404"),
    ("longjing", "龙井", "延边州", "龙井市", "222405"),
    ("helong", "和龙", "延边州", "和龙市", "222406"),
    ("antu", "安图", "延边州", "安图县", "222426"),
)
_YANBIAN = "2224"  # area codes of the Korean autonomous prefecture: more Korean family names
_PROVINCE_CODE = "jilin"
_TOWNS = (
    "城郊", "大岭", "新立", "五棵树", "太平", "兴隆", "三岔", "双河", "前进", "红石",
    "万宝", "黄泥河", "朝阳", "合心", "东风", "长山", "靠山", "永安", "民主", "和平",
    "富民", "八宝", "四合", "向阳", "团结", "胜利", "光明", "新华", "保安", "青山",
)  # fmt: skip
_VILLAGE_NAMES = (
    "太平", "新立", "永安", "红旗", "前进", "长山", "双河", "东升", "保安", "兴隆",
    "三合", "四合", "五星", "光明", "胜利", "团结", "和平", "民主", "新民", "富民",
    "靠山", "南岗", "北山", "西岗", "东岗", "大榆树", "小城子", "二龙", "腰屯", "前屯",
    "后屯", "杨树", "柳树", "榆林", "青山", "黑林", "白家", "李家", "王家", "刘家",
    "张家", "孙家", "高家", "于家", "马家", "杨家", "新农", "富裕", "丰收", "庆丰",
    "长胜", "东兴", "西兴", "南兴", "北兴", "合发", "德胜", "永丰", "新城", "东山",
    "西山", "河南", "河北", "兴华", "宝山",
)  # fmt: skip
_QUALIFIERS = (
    "东", "西", "南", "北", "前", "后", "新", "上", "下",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class MemberPlan:
    """A member institution (行社): the rural bank of one county."""

    code: str
    name: str
    region: str
    area_code: str
    branches: tuple[tuple[str, str], ...]  # (code, name); the first is the head office

    @property
    def korean_names(self) -> bool:
        return self.area_code.startswith(_YANBIAN)


@dataclass(frozen=True, slots=True)
class VillagePlan:
    code: str
    name: str
    member: MemberPlan
    branch_code: str
    households: int


@dataclass(frozen=True, slots=True)
class Province:
    """How many institutions, branches, villages and households, and their names: the rows
    themselves are drawn when their village's file is written."""

    seed: str
    households: int
    members: tuple[MemberPlan, ...]
    villages: tuple[VillagePlan, ...]

    @property
    def branches(self) -> int:
        return sum(len(member.branches) for member in self.members)


def province(households: int = HOUSEHOLDS, seed: str = SEED) -> Province:
    """The province, or for fewer households a part of it with villages of the same size: as
    many villages as 1,211 in proportion, over as many institutions in proportion (at least two
    when there are two villages)."""
    villages = min(VILLAGES, max(1, round(VILLAGES * households / HOUSEHOLDS)))
    members = min(
        INSTITUTIONS, max(min(2, villages), math.ceil(INSTITUTIONS * villages / VILLAGES))
    )
    if households < villages:
        raise ValueError(f"{households} households cannot fill {villages} villages")
    draw = random.Random(f"{seed}:province")
    plans = []
    village_plans = []
    village_counts = _spread(villages, [draw.uniform(0.5, 1.5) for _ in range(members)])
    household_counts = iter(
        _spread(households, [draw.lognormvariate(0, 0.35) for _ in range(villages)])
    )
    for (code, short, city, county, area), count in zip(
        _COUNTIES[:members], village_counts, strict=True
    ):
        towns = draw.sample(_TOWNS, draw.randint(2, 5))
        member = MemberPlan(
            code=code,
            name=f"{short}{'联社' if county.endswith('县') else '农商行'}",
            region=f"{city}{county}",
            area_code=area,
            branches=tuple(
                (f"{code}-{number:02d}", name)
                for number, name in enumerate(
                    ["营业部", *(f"{town}支行" for town in towns)], start=1
                )
            ),
        )
        plans.append(member)
        for number, name in enumerate(_village_names(draw, count), start=1):
            village_plans.append(
                VillagePlan(
                    code=f"{code}-v{number:03d}",
                    name=name,
                    member=member,
                    branch_code=member.branches[(number - 1) % len(member.branches)][0],
                    households=next(household_counts),
                )
            )
    return Province(seed, households, tuple(plans), tuple(village_plans))


def _spread(total: int, weights: Sequence[float]) -> list[int]:
    """`total` split in proportion to `weights`, each part at least one, summing exactly."""
    rest = total - len(weights)
    quotas = [rest * weight / sum(weights) for weight in weights]
    parts = [1 + int(quota) for quota in quotas]
    by_remainder = sorted(range(len(weights)), key=lambda i: int(quotas[i]) - quotas[i])
    for i in by_remainder[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _village_names(draw: random.Random, count: int) -> list[str]:
    """`count` different village names."""
    stems = draw.sample(_VILLAGE_NAMES, min(count, len(_VILLAGE_NAMES)))
    while len(stems) < count:
        name = draw.choice(_QUALIFIERS) + draw.choice(_VILLAGE_NAMES)
        if name not in stems:
            stems.append(name)
    return [f"{stem}村" for stem in stems]


# The households ----------------------------------------------------------------------------------

_SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙朱马胡郭林何高梁郑罗宋谢唐韩曹许邓冯曾程蔡彭潘袁于董余苏叶吕"
    "魏蒋田杜丁沈姜范江傅钟卢汪戴崔任陆廖姚方金邱夏谭贾邹石熊孟秦薛侯雷白龙段郝孔邵史毛"
)
_SURNAME_WEIGHTS = tuple(accumulate(1 / (rank + 4) for rank in range(len(_SURNAMES))))
_KOREAN_SURNAMES = "金朴崔李郑姜韩许申全"
_MALE_GIVEN = "建国志强春明国庆德成永军海涛立新宝山福财长林振华玉龙文刚洪亮铁柱大勇树森"
_FEMALE_GIVEN = "春梅秀英桂兰淑芬玉珍丽华凤霞淑珍秀云金凤红艳丽娟晓燕美玲翠花海燕雪梅"
_KOREAN_MALE = ("哲洙", "成浩", "永哲", "明浩", "贤洙", "东日", "光哲", "正一")
_KOREAN_FEMALE = ("英姬", "顺子", "美善", "贞淑", "恩惠", "玉顺", "春花", "善姬")
_MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151",
    "152", "155", "156", "157", "158", "159", "166", "173", "176", "177", "180", "181",
    "182", "183", "185", "186", "187", "188", "189", "191", "198", "199",
)  # fmt: skip
# (main business, share of households, kind): kind decides land, income and debts.
_BUSINESSES = (
    ("玉米种植", 34, "crop"),
    ("水稻种植", 12, "crop"),
    ("大豆种植", 6, "crop"),
    ("杂粮种植", 3, "crop"),
    ("蔬菜种植", 4, "crop"),
    ("人参种植", 2, "crop"),
    ("食用菌种植", 2, "crop"),
    ("生猪养殖", 6, "livestock"),
    ("肉牛养殖", 6, "livestock"),
    ("肉羊养殖", 2, "livestock"),
    ("禽类养殖", 2, "livestock"),
    ("农机服务", 3, "trade"),
    ("农资经营", 2, "trade"),
    ("个体经营", 3, "trade"),
    ("务工", 13, "wages"),
)
_BUSINESS_WEIGHTS = tuple(accumulate(share for _, share, _ in _BUSINESSES))
_RATINGS = ("EXCELLENT", "GOOD", "FAIR", "POOR")
_RATING_WEIGHTS = (20, 65, 90, 100)
_FAMILY_SIZES = (1, 2, 3, 4, 5, 6, 7, 8)
_FAMILY_WEIGHTS = tuple(accumulate((5, 18, 30, 25, 12, 6, 3, 1)))
FAULTS = ("check character", "mobile", "negative income")


@dataclass(frozen=True, slots=True)
class RosterFile:
    village_code: str
    path: Path
    rows: int
    bad: int  # rows written with one fault each, to be refused

    @property
    def valid(self) -> int:
        return self.rows - self.bad


@dataclass(frozen=True, slots=True)
class Rosters:
    """The files of a province, in the order of its villages."""

    directory: Path
    files: tuple[RosterFile, ...]
    bytes: int
    seconds: float  # writing them
    made_on: date
    reused: bool

    @property
    def rows(self) -> int:
        return sum(each.rows for each in self.files)

    @property
    def bad(self) -> int:
        return sum(each.bad for each in self.files)


class _Identities:
    """The birth dates and sequence numbers an institution has given, so that no two of its
    households share an ID number; born 20 to 75 years before `today`, most of them 35 to 65."""

    def __init__(self, area_code: str, today: date) -> None:
        self._area_code = area_code
        self._taken: set[int] = set()
        youngest = _years_before(today, 20)
        self._oldest = _years_before(today, 76) + timedelta(days=1)
        self._span = (youngest - self._oldest).days

    def draw(self, draw: random.Random, *, male: bool) -> str:
        while True:
            born = self._oldest + timedelta(
                days=round(draw.triangular(0, self._span, 0.45 * self._span))
            )
            sequence = draw.randrange(500) * 2 + (1 if male else 0)
            key = born.toordinal() * 1000 + sequence
            if key not in self._taken:
                self._taken.add(key)
                body = f"{self._area_code}{born:%Y%m%d}{sequence:03d}"
                return body + id_check_character(body)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def rosters(
    plan: Province,
    directory: Path,
    *,
    reuse: bool,
    today: date,
    say: Callable[[str], None],
) -> Rosters:
    """The province's files in `directory`: those already there when `reuse` and their marker
    names this generator, seed and size; otherwise written now (the directory emptied first)."""
    if reuse:
        found, reason = _marked(directory, plan)
        if found is not None:
            return found
        say(f"roster files not reused: {reason}")
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    began = time.perf_counter()
    files: list[RosterFile] = []
    for member, villages in groupby(plan.villages, key=lambda village: village.member):
        identities = _Identities(member.area_code, today)  # one institution's at a time
        for village in villages:
            files.append(_write_village(plan.seed, village, directory, identities, today))
            if len(files) % 200 == 0:
                say(f"  {len(files):,} of {len(plan.villages):,} files written")
    written = Rosters(
        directory,
        tuple(files),
        sum(each.path.stat().st_size for each in files),
        time.perf_counter() - began,
        today,
        reused=False,
    )
    (directory / MARKER).write_text(json.dumps(_marker(plan, written), ensure_ascii=False))
    return written


def source_digest() -> str:
    """A digest of the project's Python sources: the importing processes load them afresh, so
    a change between two imports of one run shows here."""
    digest = hashlib.sha256()
    package = Path(jikuai.__file__).parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def kept_folder(plan: Province) -> Path:
    """Where `--reuse` keeps the files of a province of this size from one run to the next."""
    return Path(tempfile.gettempdir()) / f"jikuai-bench-villages-{plan.households}"


def _marker(plan: Province, written: Rosters) -> dict[str, Any]:
    return {
        "generator": GENERATOR,
        "seed": plan.seed,
        "households": plan.households,
        "made_on": written.made_on.isoformat(),
        "seconds": round(written.seconds, 1),
        "bytes": written.bytes,
        "files": [
            [each.village_code, each.path.name, each.rows, each.bad] for each in written.files
        ],
    }


def _marked(directory: Path, plan: Province) -> tuple[Rosters | None, str]:
    """The files the marker of `directory` describes, or None and why not."""
    try:
        marker = json.loads((directory / MARKER).read_text())
    except (OSError, ValueError):
        return None, f"no marker in {directory}"
    wanted = {"generator": GENERATOR, "seed": plan.seed, "households": plan.households}
    if any(marker.get(key) != value for key, value in wanted.items()):
        return None, "written by another version, seed or size"
    files = tuple(
        RosterFile(code, directory / name, rows, bad) for code, name, rows, bad in marker["files"]
    )
    if [each.village_code for each in files] != [village.code for village in plan.villages]:
        return None, "the villages differ"
    if not all(each.path.is_file() for each in files):
        return None, "files are missing"
    return Rosters(
        directory,
        files,
        int(marker["bytes"]),
        float(marker["seconds"]),
        date.fromisoformat(marker["made_on"]),
        reused=True,
    ), ""


def _write_village(
    seed: str, village: VillagePlan, directory: Path, identities: _Identities, today: date
) -> RosterFile:
    """One village's file, its households drawn and written one at a time."""
    draw = random.Random(f"{seed}:{village.code}")
    korean = village.member.korean_names
    panel = ";".join(_name(draw, male=draw.random() < 0.6, korean=korean) for _ in range(3))
    reviewed_on = today - timedelta(days=draw.randint(7, 200))
    path = directory / f"{village.code}.csv"
    bad = 0
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(HEADER)
        for _ in range(village.households):
            fault = draw.choice(FAULTS) if draw.random() < BAD_SHARE else None
            bad += fault is not None
            writer.writerow(_household(draw, identities, korean, fault, panel, reviewed_on, today))
    return RosterFile(village.code, path, village.households, bad)


def _household(
    draw: random.Random,
    identities: _Identities,
    korean: bool,
    fault: str | None,
    panel: str,
    reviewed_on: date,
    today: date,
) -> tuple[str, ...]:
    male = draw.random() < 0.78  # the head of the household
    id_number = identities.draw(draw, male=male)
    phone = draw.choice(_MOBILE_PREFIXES) + f"{draw.randrange(10**8):08d}"
    business, _, kind = draw.choices(_BUSINESSES, cum_weights=_BUSINESS_WEIGHTS)[0]
    land, income, debts = _farm(draw, kind)
    if fault == "check character":
        right = id_number[17]
        id_number = id_number[:17] + draw.choice([c for c in "0123456789X" if c != right])
    elif fault == "mobile":
        phone = draw.choice(("12", "10", "11")) + f"{draw.randrange(10**9):09d}"
    elif fault == "negative income":
        income = -income
    if draw.random() < 0.1:  # reviewed at a second sitting of the panel
        reviewed_on = min(today, reviewed_on + timedelta(days=draw.randint(1, 14)))
    return (
        _name(draw, male=male, korean=korean),
        id_number,
        phone,
        str(draw.choices(_FAMILY_SIZES, cum_weights=_FAMILY_WEIGHTS)[0]),
        _hundredths(land),
        business,
        _hundredths(income),
        _hundredths(debts),
        draw.choices(_RATINGS, cum_weights=_RATING_WEIGHTS)[0],
        reviewed_on.isoformat(),
        panel,
    )


def _farm(draw: random.Random, kind: str) -> tuple[int, int, int]:
    """Land in hundredths of a mu, annual income and existing debts in fen."""
    if kind == "crop":
        mu = min(400.0, draw.lognormvariate(math.log(35), 0.6))
        income = mu * draw.uniform(600, 1100) + draw.uniform(5_000, 30_000)
    elif kind == "livestock":
        mu = draw.uniform(0, 30)
        income = draw.uniform(40_000, 300_000)
    elif kind == "trade":
        mu = draw.uniform(0, 10)
        income = draw.uniform(50_000, 250_000)
    else:
        mu = draw.uniform(0, 15)
        income = draw.uniform(30_000, 90_000)
    shape = draw.random()  # whole mu, half a mu or to the hundredth
    land = (
        round(mu) * 100 if shape < 0.6 else round(mu * 2) * 50 if shape < 0.85 else round(mu * 100)
    )
    income_fen = round(income, -2) * 100 if draw.random() < 0.85 else round(income * 100)
    debts = 0 if draw.random() < 0.55 else round(income * draw.uniform(0.05, 0.8), -3) * 100
    return land, int(income_fen), int(debts)


def _hundredths(value: int) -> str:
    """An amount kept in hundredths as decimal text: whole numbers without decimals."""
    sign = "-" if value < 0 else ""
    whole, part = divmod(abs(value), 100)
    return f"{sign}{whole}" if part == 0 else f"{sign}{whole}.{part:02d}"


def _name(draw: random.Random, *, male: bool, korean: bool) -> str:
    """A Chinese name of two or three characters."""
    if korean and draw.random() < 0.4:
        return draw.choice(_KOREAN_SURNAMES) + draw.choice(_KOREAN_MALE if male else _KOREAN_FEMALE)
    surname = draw.choices(_SURNAMES, cum_weights=_SURNAME_WEIGHTS)[0]
    given = _MALE_GIVEN if male else _FEMALE_GIVEN
    return surname + "".join(draw.choices(given, k=1 if draw.random() < 0.3 else 2))


# The bench database -----------------------------------------------------------------------------

STAFF_ROLES = (
    ("admin", "系统管理员", tenancy.Role.INSTITUTION_ADMIN),
    ("risk", "风险经理", tenancy.Role.RISK_OFFICER),
)
BRANCH_ROLES = (
    ("manager", "网点负责人", tenancy.Role.BRANCH_MANAGER),
    ("officer", "客户经理", tenancy.Role.LOAN_OFFICER),
)


async def flush_redis(url: str) -> None:
    """Empty the phase's Redis database: what the cache held refers to a database reset since."""
    redis = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


async def seed(settings: Settings, plan: Province) -> float:
    """On a migrated, empty database, as `jikuai seed demo` does for the pilots: the province
    union and its admin, who publishes the LPR history; each institution with its branches,
    villages and staff (an admin and a risk officer, a manager and a loan officer per branch,
    all with the demo password); and each institution's 吉农快贷, made by its admin through the
    product use case. The seconds it took."""
    began = time.perf_counter()
    now = datetime.now(UTC)
    code, terms = demo_products()[0]
    if code != PRODUCT_CODE:
        raise RuntimeError(f"the demo's first product is {code}, not {PRODUCT_CODE}")
    services = build_services(settings)
    session = services.database.session()
    try:
        password_hash = services.passwords.hash(DEMO_PASSWORD)
        async with session.unit_of_work() as uow:
            union = await _add_union(uow, password_hash, now)
            admins = [
                await _add_member(uow, member, plan.villages, password_hash, now)
                for member in plan.members
            ]
            await uow.commit()
        for rate in DEMO_LPR:
            await publish_lpr(
                rate,
                actor=Actor.of_staff(union),
                uow=session.unit_of_work(),
                now=now,
                request_id="bench-villages",
            )
        for admin in admins:
            await create_product(
                DefineProduct(code=code, terms=terms),
                actor=Actor.of_staff(admin),
                uow=session.unit_of_work(),
                now=now,
            )
    finally:
        await session.close()
        await services.close()
    return time.perf_counter() - began


async def _add_union(uow: UnitOfWork, password_hash: str, now: datetime) -> tenancy.Staff:
    union = tenancy.Institution(
        id=new_id(),
        code=_PROVINCE_CODE,
        name="吉林省农村信用社联合社",
        region="吉林省",
        kind=tenancy.InstitutionKind.PROVINCE,
        created_at=now,
    )
    await uow.tenancy.add_institution(union)
    admin = tenancy.Staff(
        id=new_id(),
        institution_id=union.id,
        branch_id=None,
        username=f"{_PROVINCE_CODE}-admin",
        display_name="省联社管理员",
        role=tenancy.Role.PROVINCE_ADMIN,
        password_hash=password_hash,
        active=True,
        created_at=now,
    )
    await uow.tenancy.add_staff(admin)
    return admin


async def _add_member(
    uow: UnitOfWork,
    member: MemberPlan,
    villages: Sequence[VillagePlan],
    password_hash: str,
    now: datetime,
) -> tenancy.Staff:
    """One institution, its branches, villages and staff; its admin."""
    institution = tenancy.Institution(
        id=new_id(),
        code=member.code,
        name=member.name,
        region=member.region,
        kind=tenancy.InstitutionKind.MEMBER,
        created_at=now,
    )
    await uow.tenancy.add_institution(institution)
    branches = {
        code: tenancy.Branch(id=new_id(), institution_id=institution.id, code=code, name=name)
        for code, name in member.branches
    }
    for branch in branches.values():
        await uow.tenancy.add_branch(branch)
    for village in villages:
        if village.member is member:
            await uow.tenancy.add_village(
                tenancy.Village(
                    id=new_id(),
                    institution_id=institution.id,
                    branch_id=branches[village.branch_code].id,
                    code=village.code,
                    name=village.name,
                )
            )
    head_office = next(iter(branches.values()))
    people = [
        (f"{member.code}-{suffix}", f"{member.name}{title}", role, head_office)
        for suffix, title, role in STAFF_ROLES
    ] + [
        (f"{branch.code}-{suffix}", f"{branch.name}{title}", role, branch)
        for branch in branches.values()
        for suffix, title, role in BRANCH_ROLES
    ]
    staff = [
        tenancy.Staff(
            id=new_id(),
            institution_id=institution.id,
            branch_id=branch.id,
            username=username,
            display_name=display_name[:50],
            role=role,
            password_hash=password_hash,
            active=True,
            created_at=now,
        )
        for username, display_name, role, branch in people
    ]
    for member_of_staff in staff:
        await uow.tenancy.add_staff(member_of_staff)
    return staff[0]


# The import -------------------------------------------------------------------------------------

OUTCOME_FIELDS = ("rows", "inserted", "updated", "unchanged", "refused")
PROGRESS_SECONDS = 15.0
START_TIMEOUT_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class Share:
    """What one importing process did with its files."""

    pid: int
    files: int
    rows: int
    inserted: int
    updated: int
    unchanged: int
    refused: int
    started: float  # time.monotonic() as it began on its first file
    finished: float  # and as it was done with its last
    cpu_seconds: float  # its own, user and system, over its files
    rss_before_kib: int  # peak RSS with every module imported, before the first file
    rss_peaks_kib: tuple[tuple[int, int], ...]  # (files done, peak RSS so far)

    @property
    def peak_rss_kib(self) -> int:
        return self.rss_peaks_kib[-1][1] if self.rss_peaks_kib else self.rss_before_kib


@dataclass(frozen=True, slots=True)
class Run:
    """One timed import: its files split between `processes` processes started together."""

    name: str
    processes: int
    shares: tuple[Share, ...]
    wall_seconds: float  # from the start signal to the last process's last file
    usage: dict[str, float]  # percent of one CPU by process group, see servers.CpuSnapshot
    # The database's backends that served the import and PostgreSQL's background processes
    # (checkpointer, WAL writer, …); backends of other databases are other processes.
    postgres_cpu_seconds: float

    def total(self, field: str) -> int:
        return sum(getattr(share, field) for share in self.shares)

    @property
    def rows_per_second(self) -> float:
        return self.total("rows") / self.wall_seconds if self.wall_seconds else math.nan

    @property
    def peak_rss_kib(self) -> int:
        return max(share.peak_rss_kib for share in self.shares)

    @property
    def importer_cpu_seconds(self) -> float:
        return sum(share.cpu_seconds for share in self.shares)

    @property
    def busy_percent(self) -> float:
        """How busy the machine's CPUs were, on average, from the start to the last file."""
        busy = [value for key, value in self.usage.items() if key.endswith("_busy_percent")]
        return sum(busy) / len(busy) if busy else math.nan

    @property
    def others_cpu_percent(self) -> float:
        """Percent of one CPU that everything but the import took meanwhile (other processes,
        PostgreSQL's backends of other databases): when high, the figures are low."""
        if not self.wall_seconds:
            return math.nan
        seconds = (
            (self.usage["other_cpu_percent"] + self.usage["postgres_cpu_percent"])
            * self.wall_seconds
            / 100
        )
        ours = self.importer_cpu_seconds + self.postgres_cpu_seconds
        return max(0.0, 100 * (seconds - ours) / self.wall_seconds)

    def document(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "processes": self.processes,
            "files": self.total("files"),
            **{field: self.total(field) for field in OUTCOME_FIELDS},
            "wall_seconds": self.wall_seconds,
            "rows_per_second": self.rows_per_second,
            "peak_rss_kib": self.peak_rss_kib,
            "importer_cpu_seconds": self.importer_cpu_seconds,
            "postgres_cpu_seconds": self.postgres_cpu_seconds,
            "others_cpu_percent": self.others_cpu_percent,
            "cpus_busy_percent": self.busy_percent,
            "usage": self.usage,
            "shares": [asdict(share) for share in self.shares],
        }


def runs_table(runs: Sequence[Run]) -> str:
    lines = [
        "| import | processes | files | rows | wall s | rows/s | inserted | unchanged | refused "
        "| importers' CPU s | PostgreSQL CPU s | other processes CPU % | CPUs busy % "
        "| peak RSS MiB |",
        "| --- " + "| ---: " * 13 + "|",
    ]
    lines += [
        f"| {run.name} | {run.processes} | {run.total('files'):,} | {run.total('rows'):,} "
        f"| {run.wall_seconds:.1f} | {run.rows_per_second:,.0f} | {run.total('inserted'):,} "
        f"| {run.total('unchanged'):,} | {run.total('refused'):,} "
        f"| {run.importer_cpu_seconds:.1f} | {run.postgres_cpu_seconds:.1f} "
        f"| {run.others_cpu_percent:.0f} | {run.busy_percent:.0f} "
        f"| {run.peak_rss_kib / 1024:,.0f} |"
        for run in runs
    ]
    return "\n".join(lines)


def split(files: Sequence[RosterFile], parts: int) -> list[list[RosterFile]]:
    """The files in `parts` runs of consecutive villages with about as many rows each."""
    total = sum(each.rows for each in files)
    shares: list[list[RosterFile]] = [[] for _ in range(parts)]
    done = 0
    for each in files:
        shares[min(parts - 1, done * parts // max(total, 1))].append(each)
        done += each.rows
    return [share for share in shares if share]


def import_files(
    settings: Settings,
    files: Sequence[RosterFile],
    *,
    name: str,
    processes: int,
    say: Callable[[str], None],
) -> Run:
    """Import the files with `import_roster_file` in `processes` fresh processes, each taking
    a run of consecutive villages with about as many rows as the others. The processes start,
    build their services and wait; the clock starts when all are told to go together. Each keeps
    its connections until all are done, so that the CPU time of their PostgreSQL backends can
    be read (from /proc, while the backends live)."""
    context = multiprocessing.get_context("spawn")
    messages: Queue[tuple[str, Any]] = context.Queue()
    go = context.Event()
    stop = context.Event()
    rows_done = context.Value("q", 0)
    workers = [
        context.Process(
            target=_import_share,
            args=(settings, share, messages, go, stop, rows_done),
            name=f"roster-import-{number}",
        )
        for number, share in enumerate(split(files, processes), start=1)
    ]
    for worker in workers:
        worker.start()
    try:
        for _ in workers:
            _expect(messages, "ready", workers, START_TIMEOUT_SECONDS)
        before = servers.CpuSnapshot.take()
        started = time.monotonic()
        go.set()
        shares: list[Share] = []
        total = sum(each.rows for each in files)
        while len(shares) < len(workers):
            message = _expect(messages, "done", workers, PROGRESS_SECONDS)
            if message is None:
                elapsed = time.monotonic() - started
                done = int(rows_done.value)
                say(f"  {elapsed:5.0f} s: {done:,} of {total:,} rows, {done / elapsed:,.0f}/s")
            else:
                shares.append(message)
        after = servers.CpuSnapshot.take()
        serving = asyncio.run(_postgres_serving(settings.primary_database_url))
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=60)
            if worker.is_alive():
                worker.kill()
    wall = max(share.finished for share in shares) - started
    postgres = sum(
        after.processes[pid][1] - before.processes.get(pid, ("", 0.0))[1]
        for pid in serving
        if pid in after.processes
    )
    return Run(
        name,
        len(workers),
        tuple(sorted(shares, key=lambda share: share.started)),
        wall,
        after.usage_since(before, server_pid=-1),
        postgres,
    )


_SERVING = text(
    """SELECT pid FROM pg_stat_activity
    WHERE pid <> pg_backend_pid()
      AND (datname = current_database() OR backend_type <> 'client backend')
      AND (datname IS NULL OR datname = current_database())"""
)


async def _postgres_serving(database_url: str) -> set[int]:
    """The PostgreSQL processes that serve this database: its backends (the importing
    processes' connections, open until they are told to stop) and the background ones."""
    engine = create_engine(database_url, pool_size=1, autocommit=True)
    try:
        async with engine.connect() as connection:
            return set((await connection.execute(_SERVING)).scalars())
    finally:
        await engine.dispose()


def _expect(
    messages: Queue[tuple[str, Any]],
    kind: str,
    workers: Sequence[multiprocessing.process.BaseProcess],
    timeout: float,
) -> Any:
    """The next message of `kind` from a worker, or None after `timeout` seconds; a worker's
    failure, or a worker gone without a word, stops the run."""
    try:
        got, value = messages.get(timeout=timeout)
    except queue.Empty:
        gone = [worker.name for worker in workers if worker.exitcode not in (None, 0)]
        if gone:
            raise RuntimeError(f"{', '.join(gone)} ended without a result") from None
        if kind == "ready":
            raise RuntimeError(f"no importing process ready in {timeout:g} s") from None
        return None
    if got == "failed":
        raise RuntimeError(f"an importing process failed:\n{value}")
    if got != kind:
        raise RuntimeError(f"an importing process said {got!r}, expected {kind!r}")
    return value


def _import_share(
    settings: Settings,
    files: Sequence[RosterFile],
    messages: Queue[tuple[str, Any]],
    go: Event,
    stop: Event,
    rows_done: Synchronized[int],
) -> None:
    """An importing process: its services, then on the signal its files one after the other,
    as `jikuai` would import them; what it did, or why it failed, goes to `messages`. `stop`
    ends it after its current file (the bench is done with it, or gave up)."""
    try:
        services = build_services(settings)
        messages.put(("ready", None))
        if _wait(go):
            asyncio.run(_import(services, files, messages, stop, rows_done))
    except Exception:
        messages.put(("failed", traceback.format_exc()))


def _wait(event: Event) -> bool:
    """Wait for `event`; False if the bench's process is gone meanwhile."""
    parent = multiprocessing.parent_process()
    while not event.wait(timeout=1):
        if parent is None or not parent.is_alive():
            return False
    return True


async def _import(
    services: Services,
    files: Sequence[RosterFile],
    messages: Queue[tuple[str, Any]],
    stop: Event,
    rows_done: Synchronized[int],
) -> None:
    rss_before = _peak_rss_kib()
    usage_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    counts = dict.fromkeys(OUTCOME_FIELDS, 0)
    checkpoints = {max(1, len(files) // 10), max(1, len(files) // 2), len(files)}
    peaks = []
    try:
        for number, each in enumerate(files, start=1):
            if stop.is_set():
                return
            outcome = await import_roster_file(services, each.path, village_code=each.village_code)
            for field in OUTCOME_FIELDS:
                counts[field] += getattr(outcome, field)
            with rows_done.get_lock():
                rows_done.value += outcome.rows
            if number in checkpoints:
                peaks.append((number, _peak_rss_kib()))
        finished = time.monotonic()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        share = Share(
            pid=os.getpid(),
            files=len(files),
            **counts,
            started=started,
            finished=finished,
            cpu_seconds=(usage.ru_utime + usage.ru_stime)
            - (usage_before.ru_utime + usage_before.ru_stime),
            rss_before_kib=rss_before,
            rss_peaks_kib=tuple(peaks),
        )
        messages.put(("done", share))
        await asyncio.to_thread(_wait, stop)  # the connections stay open until then
    finally:
        await services.close()


def _peak_rss_kib() -> int:
    """This process's peak resident set so far (Linux reports kibibytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# What the database holds afterwards ------------------------------------------------------------

# Amounts are read in CNY: money columns hold whole fen.

_VILLAGE_COUNTS = text(
    """SELECT v.code, count(h.id) FROM villages AS v
    LEFT JOIN village_households AS h ON h.village_id = v.id GROUP BY v.code"""
)
_OUTCOMES = text(
    """SELECT outcome, count(*), avg(score), sum(pre_approved_limit) / 100.0,
           count(*) FILTER (WHERE whitelist_entry_id IS NULL)
    FROM village_households GROUP BY outcome ORDER BY outcome"""
)
_GRADES = text(
    """SELECT coalesce(grade, '-'), count(*) FROM village_households
    WHERE outcome = 'PRE_APPROVED' GROUP BY grade ORDER BY min(score) DESC"""
)
_REASONS = text(
    """SELECT reasons, count(*) FROM village_households WHERE outcome = 'DECLINED'
    GROUP BY reasons ORDER BY count(*) DESC LIMIT 6"""
)
_WHITELIST = text(
    """SELECT count(*),
           count(*) FILTER (WHERE h.id IS NULL OR h.pre_approved_limit <> e.limit_amount
                                  OR h.offer_expires_on <> e.valid_until)
    FROM credit_list_entries AS e
    LEFT JOIN village_households AS h ON h.whitelist_entry_id = e.id
    WHERE e.kind = 'WHITELIST' AND e.source = :source AND e.revoked_at IS NULL"""
)
_IMPORTS = text(
    """SELECT count(*) FILTER (WHERE status = 'COMPLETED'), count(*), coalesce(sum(rows), 0),
           coalesce(sum(refused), 0), coalesce(sum(pre_approved), 0)
    FROM roster_imports"""
)
_SIZES = text(
    """SELECT c.relname, c.reltuples::bigint, pg_total_relation_size(c.oid)
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'r'
    ORDER BY pg_total_relation_size(c.oid) DESC LIMIT 5"""
)
# A sample of villages as the database holds them: their households, screenings and whitelist
# entries, down to each row's digest and last update.
_FINGERPRINT = text(
    """SELECT count(h.id), md5(string_agg(concat_ws('|', h.id, encode(h.digest, 'hex'),
               h.updated_at, h.outcome, h.score, h.pre_approved_limit, h.whitelist_entry_id,
               e.limit_amount, e.valid_from, e.valid_until, e.revoked_at), ',' ORDER BY h.id))
    FROM village_households AS h JOIN villages AS v ON v.id = h.village_id
    LEFT JOIN credit_list_entries AS e ON e.id = h.whitelist_entry_id
    WHERE v.code = ANY(:codes)"""
)
_TOTALS = text(
    """SELECT (SELECT count(*) FROM village_households),
           (SELECT count(*) FROM credit_list_entries),
           (SELECT count(*) FROM customers), (SELECT count(*) FROM credit_lines)"""
)


@dataclass(frozen=True, slots=True)
class Check:
    what: str
    expected: object
    found: object

    @property
    def passed(self) -> bool:
        return self.expected == self.found


@dataclass(frozen=True, slots=True)
class Held:
    """What the database holds after an import of every file, checked against the files."""

    checks: tuple[Check, ...]
    outcomes: tuple[tuple[str, int, float | None, Decimal | None], ...]  # count, mean score, limits
    grades: tuple[tuple[str, int], ...]
    reasons: tuple[tuple[str, int], ...]
    database_bytes: int
    tables: tuple[tuple[str, int, int], ...]  # name, estimated rows, bytes with indexes

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    def document(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "checks": [asdict(check) | {"passed": check.passed} for check in self.checks],
            "outcomes": [
                {"outcome": outcome, "households": count, "mean_score": score, "limits": limits}
                for outcome, count, score, limits in self.outcomes
            ],
            "pre_approved_grades": dict(self.grades),
            "declined_reasons": dict(self.reasons),
            "database_bytes": self.database_bytes,
            "largest_tables": [
                {"table": name, "rows": rows, "bytes": size} for name, rows, size in self.tables
            ],
        }


async def held(database_url: str, files: Sequence[RosterFile], run: Run) -> Held:
    """Check the database against the files and the run: every valid row a household in its
    village, the bad rows refused, every pre-approved household on the whitelist with its line,
    every file's import completed."""
    engine = create_engine(database_url, pool_size=1, autocommit=True)
    try:
        async with engine.connect() as connection:
            await connection.exec_driver_sql("ANALYZE")
            per_village = dict((await connection.execute(_VILLAGE_COUNTS)).tuples().all())
            outcomes = (await connection.execute(_OUTCOMES)).tuples().all()
            grades = (await connection.execute(_GRADES)).tuples().all()
            reasons = (await connection.execute(_REASONS)).tuples().all()
            listed, mismatched = (
                await connection.execute(_WHITELIST, {"source": WHITELIST_SOURCE})
            ).one()
            completed, imports, imported_rows, refused, pre_approved = (
                await connection.execute(_IMPORTS)
            ).one()
            database_bytes = await connection.scalar(
                text("SELECT pg_database_size(current_database())")
            )
            tables = (await connection.execute(_SIZES)).tuples().all()
    finally:
        await engine.dispose()
    by_outcome = {outcome: (count, unlisted) for outcome, count, _, _, unlisted in outcomes}
    households = sum(count for count, _ in by_outcome.values())
    approved, approved_unlisted = by_outcome.get("PRE_APPROVED", (0, 0))
    valid = sum(each.valid for each in files)
    bad = sum(each.bad for each in files)
    checks = (
        Check("households = valid rows", valid, households),
        Check(
            "villages whose households differ from their file's valid rows",
            0,
            sum(per_village.get(each.village_code, 0) != each.valid for each in files),
        ),
        Check("rows refused (the import's outcomes) = bad rows", bad, run.total("refused")),
        Check("rows inserted (the import's outcomes) = valid rows", valid, run.total("inserted")),
        Check("imports completed = files", len(files), completed),
        Check("imports recorded = files", len(files), imports),
        Check("rows of the import records = rows", sum(each.rows for each in files), imported_rows),
        Check("rows refused (the import records) = bad rows", bad, refused),
        Check(
            "pre-approved (the import records) = pre-approved households", approved, pre_approved
        ),
        Check("pre-approved households > 0", True, approved > 0),
        Check("whitelist entries in force = pre-approved households", approved, listed),
        Check("pre-approved households without a whitelist entry", 0, approved_unlisted),
        Check("whitelist entries whose line or expiry differs from the household's", 0, mismatched),
    )
    return Held(
        checks=checks,
        outcomes=tuple(
            (outcome, count, float(score) if score is not None else None, limits)
            for outcome, count, score, limits, _ in outcomes
        ),
        grades=tuple(grades),
        reasons=tuple((reason or "-", count) for reason, count in reasons),
        database_bytes=int(database_bytes or 0),
        tables=tuple((name, int(rows), int(size)) for name, rows, size in tables),
    )


SETTINGS = ("shared_buffers", "synchronous_commit", "max_wal_size", "autovacuum")


async def server_settings(database_url: str) -> dict[str, str]:
    """The PostgreSQL settings an import's speed depends on most."""
    engine = create_engine(database_url, pool_size=1, autocommit=True)
    try:
        async with engine.connect() as connection:
            return {name: str(await connection.scalar(text(f"SHOW {name}"))) for name in SETTINGS}
    finally:
        await engine.dispose()


def sample(files: Sequence[RosterFile], count: int = SAMPLE_FILES) -> list[RosterFile]:
    """`count` files spread evenly over the province's villages."""
    step = max(1, len(files) // count)
    return list(files[::step][:count])


async def fingerprint(database_url: str, codes: Sequence[str]) -> dict[str, Any]:
    """The sample villages' households, screenings and whitelist entries as one digest, and
    every table that an import writes to by its row count."""
    engine = create_engine(database_url, pool_size=1, autocommit=True)
    try:
        async with engine.connect() as connection:
            households, digest = (
                await connection.execute(_FINGERPRINT, {"codes": list(codes)})
            ).one()
            totals = (await connection.execute(_TOTALS)).one()
    finally:
        await engine.dispose()
    return {
        "sample_households": int(households),
        "sample_digest": digest,
        "households": int(totals[0]),
        "credit_list_entries": int(totals[1]),
        "customers": int(totals[2]),
        "credit_lines": int(totals[3]),
    }


def profile(settings: Settings, files: Sequence[RosterFile], *, lines: int = 30) -> str:
    """cProfile of importing `files` in this process (the services built beforehand), the
    event loop's thread and its executor's threads (where an import checks, encrypts and
    screens) together: the functions with the most time of their own, then the project's by
    cumulative time."""
    services = build_services(settings)
    profilers: list[cProfile.Profile] = []

    def profiled() -> None:
        """Start a worker thread of the loop's executor with a profiler of its own."""
        profiler = cProfile.Profile()
        profilers.append(profiler)
        profiler.enable()

    async def run() -> None:
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(initializer=profiled))
        profiler = cProfile.Profile()
        profilers.append(profiler)
        try:
            profiler.enable()
            for each in files:
                await import_roster_file(services, each.path, village_code=each.village_code)
            profiler.disable()
        finally:
            await services.close()

    asyncio.run(run())  # which joins the executor's threads
    report = io.StringIO()
    stats = pstats.Stats(*profilers, stream=report)
    stats.sort_stats("tottime").print_stats(lines)
    stats.sort_stats("cumulative").print_stats("jikuai", lines)
    return report.getvalue()
