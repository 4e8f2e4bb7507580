"""The staff performance phase: a loan officers' scoreboard over an institution of realistic
size, cold and warm.

The requirement: with 500 staff, 200,000 customers, 300,000 loans and two years of daily
deposit facts on PostgreSQL, a month's scoreboard in under 500 ms cold and under 20 ms warm.

The data lives in a database of its own (`jikuai_bench_performance` by default), built by the
migrations and then by set-based SQL (`INSERT … SELECT … FROM generate_series`), never row by
row from Python. Every identifier (an md5) and every drawn value (a hash) comes from a label and
a number, so two builds on the same day and PostgreSQL version hold the same data, and the
statements of one step can find the rows of another (the customer of a loan, the officer of a
customer) without a join.
Building takes minutes; `--reuse` keeps a database whose marker (a comment on its schema
`public`) says it was built by this generator from the migrations as they are now.

The data: one institution, 40 branches of 11 loan officers and a branch manager, ten villages
each, 20 head-office staff (500 staff); 200,000 customers registered over three years, 98% of
them assigned to an officer (one in ten reassigned once within the branch), 90% in a village,
15% referred by an earlier customer; 300,000 loans started evenly over the two years (12 to 36
months, 5,000 to 300,000 CNY, some prepaid, a few percent overdue and non-performing); credit
lines for three customers in four; 300 merchants applied for over the two years, each with a
cashier and its onboarding officer assigned, and 100,000 redemptions at them; per staff member
and day for two years, the deposit facts core banking would send (deposit and low-cost deposit
balances, social security cards issued and activated); and the platform's end-of-day positions:
those of the last day recorded by the project's own `record_positions`, the days before derived
from them (about 30% lower two years ago, with daily noise).

The scheme scores loan officers monthly on twelve indicators of the catalog: events (loans
disbursed, new credit lines, new customers, referrals, points redeemed), positions and their
ratios (outstanding balance, credit utilization, overdue rate, non-performing ratio) and
deposits (balance, daily average, low-cost share).

The measurement, for the last complete month and the open one, then the open one again once the
complete month is closed: the service in this process as a request runs it (`scoreboard(...)`
on a connection of an autocommit engine like the application's readers, with the Redis cache),
then the whole `performanceScoreboard` request through `jikuai serve`. A scoreboard computes its
period and reads the period before (for the change of rank): computed while it is open, its
snapshot once closed. Cold: the institution's cache generation moved on before each run, as new
facts move it; PostgreSQL's buffers were warmed by a first run that is not counted. Warm: the
same call again, the cache filled. `--explain` then reads each
reading of the scheme alone, with EXPLAIN (ANALYZE, BUFFERS) of the SQL it runs.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import (
    Date,
    DateTime,
    Integer,
    String,
    TextClause,
    Uuid,
    bindparam,
    event,
    insert,
    text,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.types import TypeEngine

from bench import api, dataset, servers
from jikuai.config import DEMO_PASSWORD
from jikuai.demo_products import demo_products
from jikuai.domain.credit.documents import terms_document
from jikuai.domain.performance.closing import close_period
from jikuai.domain.performance.freshness import forget_figures
from jikuai.domain.performance.indicators import CATALOG, Reading, readings
from jikuai.domain.performance.model import Scheme, SchemeIndicator, Target
from jikuai.domain.performance.periods import Period, PeriodKind
from jikuai.domain.performance.results import Scoreboard, scoreboard
from jikuai.domain.shared.calendar import business_date
from jikuai.domain.tenancy.model import Role
from jikuai.persistence import migrations
from jikuai.persistence.cache import Cache, create_cache
from jikuai.persistence.engine import create_engine
from jikuai.persistence.migrations import upgrade
from jikuai.persistence.repositories.performance import SqlPerformanceRepository
from jikuai.persistence.tables.credit import loan_products
from jikuai.persistence.unit_of_work import SqlUnitOfWork
from jikuai.security.passwords import PasswordHasher

DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/jikuai_bench_performance"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
GENERATOR = 1  # raise when the data changes: a database built by another version is rebuilt

BRANCHES = 40
VILLAGES_PER_BRANCH = 10
OFFICERS = 440  # 11 per branch; staff 441-480 are the branch managers, 481-500 head office
STAFF = 500
CUSTOMERS = 200_000
CUSTOMER_DAYS = 1095  # customers registered over three years
LOANS = 300_000
MERCHANTS = 300
REDEMPTIONS = 100_000
DAYS = 730  # two years of loans, merchants, redemptions and daily facts
CORE_SOURCE = "CORE"  # the imported facts' source

TARGET_COLD_MS = 500.0
TARGET_WARM_MS = 20.0
ROLE = Role.LOAN_OFFICER
EXPLAIN_REPEATS = 3


def uid(kind: str, number: int) -> uuid.UUID:
    """The id the generator gives the `number`th row of a kind (`pg_temp.uid` in SQL)."""
    return uuid.UUID(hashlib.md5(f"{kind}:{number}".encode(), usedforsecurity=False).hexdigest())


INSTITUTION_ID = uid("institution", 1)
ADMIN = STAFF  # the staff number of an institution admin, who made the products and the scheme


# Generation -------------------------------------------------------------------------------------

# Session functions: a number in [0, 1) drawn from a label and a number, an id, opaque bytes.
# They are inlined into the statements (immutable SQL), and `unit` is a hash, not an md5: the
# build draws some thirty million numbers.
_FUNCTIONS = (
    """CREATE FUNCTION pg_temp.unit(seed text, n bigint) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT (hashint8extended(n, hashtext(seed)) & 4294967295)::double precision / 4294967296
    $$""",
    """CREATE FUNCTION pg_temp.uid(kind text, n bigint) RETURNS uuid
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT md5(kind || ':' || n::text)::uuid $$""",
    """CREATE FUNCTION pg_temp.blob(kind text, n bigint, length integer) RETURNS bytea
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT substr(sha512(convert_to(kind || ':' || n::text, 'UTF8')), 1, length)
    $$""",
)

_ORGANISATION = (
    """INSERT INTO institutions (id, code, name, region, kind, created_at)
    VALUES (CAST(:institution AS uuid), 'perfbench', '绩效基准农村商业银行', '吉林省长春市',
            'MEMBER', CAST(:founded AS timestamptz))""",
    """INSERT INTO branches (id, institution_id, code, name)
    SELECT pg_temp.uid('branch', b), CAST(:institution AS uuid), 'PB' || lpad(b::text, 3, '0'),
           '第' || b || '支行'
    FROM generate_series(1, :branches) AS b""",
    """INSERT INTO villages (id, institution_id, branch_id, code, name)
    SELECT pg_temp.uid('village', v), CAST(:institution AS uuid),
           pg_temp.uid('branch', (v - 1) / :villages_per_branch + 1),
           'PBV' || lpad(v::text, 5, '0'), '第' || v || '村'
    FROM generate_series(1, :branches * :villages_per_branch) AS v""",
    # Officer o works in branch (o - 1) % 40 + 1; one officer in 97 has left (inactive).
    """INSERT INTO staff (id, institution_id, branch_id, username, display_name, role,
                          password_hash, active, created_at)
    SELECT pg_temp.uid('staff', s), CAST(:institution AS uuid),
           CASE WHEN s <= :officers THEN pg_temp.uid('branch', (s - 1) % :branches + 1)
                WHEN s <= :officers + :branches THEN pg_temp.uid('branch', s - :officers) END,
           'pb-' || lpad(s::text, 4, '0'), role.title || s, role.name, :password_hash,
           NOT (s <= :officers AND s % 97 = 0), CAST(:founded AS timestamptz)
    FROM generate_series(1, :staff) AS s
    CROSS JOIN LATERAL (
        SELECT CASE WHEN s <= :officers THEN 'LOAN_OFFICER'
                    WHEN s <= :officers + :branches THEN 'BRANCH_MANAGER'
                    WHEN s <= :staff - 4 THEN 'RISK_OFFICER'
                    ELSE 'INSTITUTION_ADMIN' END AS name,
               CASE WHEN s <= :officers THEN '客户经理'
                    WHEN s <= :officers + :branches THEN '支行行长'
                    ELSE '总行' END AS title
    ) AS role""",
)

# Customer c was registered on day (c - 1) * 1095 / 200,000 of the three years, by the officer
# who manages them; one in ten moved to another officer of the same branch later.
_CUSTOMER_PLAN = (
    """CREATE TEMP TABLE plan_customers AS
    SELECT c, pg_temp.uid('customer', c) AS id, officer, managed, created_on,
           (created_on + time '08:00' + pg_temp.unit('created-at', c) * interval '10 hours')
               AT TIME ZONE 'Asia/Shanghai' AS created_at,
           CASE WHEN managed AND created_on < CAST(:last_day AS date) - 30
                     AND pg_temp.unit('moved', c) < 0.1
                THEN created_on + 1 + floor(pg_temp.unit('moved-on', c)
                                            * (CAST(:last_day AS date) - created_on - 1))::int
           END AS moved_on,
           (officer - 1 + :branches * (1 + floor(pg_temp.unit('next-officer', c)
                                                 * (:officers / :branches - 1))::int))
               % :officers + 1 AS next_officer
    FROM (
        SELECT c, 1 + floor(pg_temp.unit('officer', c) * :officers)::int AS officer,
               pg_temp.unit('managed', c) < 0.98 AS managed,
               CAST(:customers_from AS date)
                   + ((c - 1)::bigint * :customer_days / :customers)::int AS created_on
        FROM generate_series(1, :customers) AS c
    ) AS drawn""",
    "ALTER TABLE plan_customers ADD PRIMARY KEY (c)",
    "ANALYZE plan_customers",
)

# Ciphertexts are opaque bytes of the lengths real ones have (nothing decrypts them here); blind
# indexes and referral codes are unique.
_CUSTOMERS = """INSERT INTO customers (id, institution_id, segment, name_ct, id_number_ct,
                           phone_ct, id_number_bidx, phone_bidx, key_id, gender, birth_date,
                           village_id, referral_code, referred_by_id, registered_by_staff_id,
                           created_at, updated_at)
    SELECT id, CAST(:institution AS uuid),
           CASE WHEN pg_temp.unit('segment', c) < 0.7 THEN 'FARMER'
                WHEN pg_temp.unit('segment', c) < 0.82 THEN 'MICRO_BUSINESS'
                WHEN pg_temp.unit('segment', c) < 0.88 THEN 'TEACHER'
                WHEN pg_temp.unit('segment', c) < 0.92 THEN 'CIVIL_SERVANT'
                WHEN pg_temp.unit('segment', c) < 0.96 THEN 'WHITE_COLLAR'
                ELSE 'OTHER' END,
           pg_temp.blob('name', c, 42), pg_temp.blob('id-number', c, 51),
           pg_temp.blob('phone', c, 44),
           sha256(convert_to('id-number-index:' || c, 'UTF8')),
           sha256(convert_to('phone-index:' || c, 'UTF8')),
           1, CASE WHEN c % 2 = 0 THEN 'FEMALE' ELSE 'MALE' END,
           DATE '1955-01-01' + floor(pg_temp.unit('born', c) * 16000)::int,
           CASE WHEN pg_temp.unit('village', c) < 0.9
                THEN pg_temp.uid('village', ((officer - 1) % :branches) * :villages_per_branch
                                 + 1 + floor(pg_temp.unit('village-number', c)
                                             * :villages_per_branch)::int) END,
           'PB' || lpad(c::text, 10, '0'),
           CASE WHEN c > 1000 AND pg_temp.unit('referred', c) < 0.15
                THEN pg_temp.uid('customer', 1 + floor(pg_temp.unit('referrer', c) * (c - 1))::int)
           END,
           CASE WHEN managed THEN pg_temp.uid('staff', officer) END,
           created_at, created_at
    FROM plan_customers"""

_CUSTOMER_ASSIGNMENTS = """INSERT INTO portfolio_assignments (id, institution_id, subject_kind,
                           subject_id, staff_id, valid_from, valid_until, assigned_by, created_at)
    SELECT pg_temp.uid('assignment', c), CAST(:institution AS uuid), 'CUSTOMER', id,
           pg_temp.uid('staff', officer), created_on, moved_on, pg_temp.uid('staff', officer),
           created_at
    FROM plan_customers WHERE managed
    UNION ALL
    SELECT pg_temp.uid('reassignment', c), CAST(:institution AS uuid), 'CUSTOMER', id,
           pg_temp.uid('staff', next_officer), moved_on, NULL,
           pg_temp.uid('staff', :officers + (officer - 1) % :branches + 1),
           (moved_on + time '09:00') AT TIME ZONE 'Asia/Shanghai'
    FROM plan_customers WHERE moved_on IS NOT NULL"""

# Loan l started on day (l - 1) * 730 / 300,000 of the two years, to a customer registered before
# it. Loans end at maturity or, one in seven, prepaid; 1% never end (the bad ones). Of the
# loans still open, about 5% are past due, in the buckets of the five-category classification.
_LOANS = """INSERT INTO loans (id, institution_id, customer_id, product_id, officer_id,
                           contract_no, method, principal, annual_rate, penalty_rate,
                           days_in_year, grace_days, allocation_order, term_months, start_date,
                           maturity_date, status, outstanding_principal, interest_accrued_to,
                           days_past_due, classification, closed_on, created_at, updated_at,
                           status_date, version)
    WITH drawn AS (
        SELECT l,
               CAST(:first_day AS date) + ((l - 1)::bigint * :days / :loans)::int AS start_date,
               CASE WHEN pg_temp.unit('term', l) < 0.5 THEN 12
                    WHEN pg_temp.unit('term', l) < 0.8 THEN 24 ELSE 36 END AS term,
               2 + floor(pg_temp.unit('product', l) * 6)::int AS product,
               CASE WHEN pg_temp.unit('method', l) < 0.3 THEN 'INTEREST_FIRST'
                    ELSE 'EQUAL_INSTALLMENT' END AS method,
               (50 + floor(pg_temp.unit('principal', l) ^ 2 * 2950))::bigint * 10000 AS principal,
               (435 + floor(pg_temp.unit('rate', l) * 8) * 50)::bigint * 1000000 AS rate,
               pg_temp.unit('risk', l) AS risk,
               pg_temp.unit('severity', l) AS severity
        FROM generate_series(1, :loans) AS l
    ), dated AS (
        SELECT drawn.*, (start_date + make_interval(months => term))::date AS maturity,
               1 + floor(pg_temp.unit('borrower', l)
                         * ((start_date - CAST(:customers_from AS date))::bigint
                            * :customers / :customer_days))::int AS borrower
        FROM drawn
    ), settled AS (
        SELECT dated.*,
               CASE WHEN risk >= 0.99 THEN NULL
                    WHEN maturity <= CAST(:last_day AS date) THEN maturity
                    WHEN pg_temp.unit('prepaid', l) < 0.15
                         AND start_date + 30 < CAST(:last_day AS date)
                    THEN start_date + 30 + floor(pg_temp.unit('prepaid-on', l)
                                                 * (CAST(:last_day AS date) - start_date - 30))::int
               END AS closed_on
        FROM dated
    ), overdue AS (
        SELECT settled.*,
               CASE WHEN closed_on IS NOT NULL THEN 0
                    ELSE LEAST(GREATEST(CAST(:last_day AS date) - start_date - 30, 0),
                               CASE WHEN risk < 0.95 THEN 0
                                    WHEN risk < 0.97 THEN 1 + floor(severity * 30)
                                    WHEN risk < 0.98 THEN 31 + floor(severity * 60)
                                    WHEN risk < 0.99 THEN 91 + floor(severity * 180)
                                    WHEN risk < 0.995 THEN 271 + floor(severity * 90)
                                    ELSE 361 + floor(severity * 300) END)::int
               END AS dpd
        FROM settled
    )
    SELECT pg_temp.uid('loan', l), CAST(:institution AS uuid), p.id,
           pg_temp.uid('product', product),
           CASE WHEN p.managed THEN pg_temp.uid('staff', CASE WHEN p.moved_on <= start_date
                                                              THEN p.next_officer
                                                              ELSE p.officer END) END,
           'PBDK' || lpad(l::text, 10, '0'), method, principal, rate, rate * 3 / 2, 360, 3,
           'PENALTY,INTEREST,PRINCIPAL', term, start_date, maturity,
           CASE WHEN closed_on IS NULL THEN 'ACTIVE' ELSE 'CLOSED' END,
           CASE WHEN closed_on IS NOT NULL THEN 0
                WHEN method = 'INTEREST_FIRST' THEN principal
                ELSE (principal * GREATEST(0.05, 1 - (CAST(:last_day AS date) - dpd - start_date)
                                                     ::double precision
                                                     / (maturity - start_date)))::bigint END,
           COALESCE(closed_on, CAST(:last_day AS date)), dpd,
           CASE WHEN dpd = 0 THEN 'NORMAL' WHEN dpd <= 90 THEN 'SPECIAL_MENTION'
                WHEN dpd <= 270 THEN 'SUBSTANDARD' WHEN dpd <= 360 THEN 'DOUBTFUL'
                ELSE 'LOSS' END,
           closed_on,
           (start_date + time '10:00') AT TIME ZONE 'Asia/Shanghai',
           (COALESCE(closed_on, CAST(:last_day AS date)) + time '18:00')
               AT TIME ZONE 'Asia/Shanghai',
           COALESCE(closed_on, CAST(:last_day AS date)), 1
    FROM overdue JOIN plan_customers AS p ON p.c = overdue.borrower"""

# Three customers in four were granted a revolving line (the demo's 吉农快贷) of 30,000 to 300,000
# CNY within 60 days of registering, for one year or three; each line has its approved
# application.
_CREDIT_LINES = (
    """CREATE TEMP TABLE plan_lines AS
    SELECT c, id AS customer_id, officer, managed, opened_on,
           (opened_on + time '10:00' + pg_temp.unit('line-at', c) * interval '6 hours')
               AT TIME ZONE 'Asia/Shanghai' AS opened_at,
           (30 + floor(pg_temp.unit('limit', c) * 271))::bigint * 100000 AS limit_amount,
           (opened_on + make_interval(months => CASE WHEN pg_temp.unit('line-months', c) < 0.3
                                                     THEN 12 ELSE 36 END))::date AS valid_until
    FROM (
        SELECT plan_customers.*,
               created_on + floor(pg_temp.unit('line-lag', c) * 60)::int AS opened_on
        FROM plan_customers WHERE pg_temp.unit('line', c) < 0.76
    ) AS lined
    WHERE opened_on <= CAST(:last_day AS date)""",
    """INSERT INTO loan_applications (id, institution_id, customer_id, product_id, amount,
                           term_months, method, purpose, annual_income, monthly_debt_payments,
                           state, decision, approved_amount, submitted_by_staff_id, created_at,
                           updated_at, version)
    SELECT pg_temp.uid('application', c), CAST(:institution AS uuid), customer_id,
           pg_temp.uid('product', 1), limit_amount, NULL, 'REVOLVING', '春耕备耕',
           (60 + floor(pg_temp.unit('income', c) * 140))::bigint * 100000, 0, 'APPROVED', '{}',
           limit_amount, CASE WHEN managed THEN pg_temp.uid('staff', officer) END,
           opened_at, opened_at, 1
    FROM plan_lines""",
    """INSERT INTO credit_lines (id, institution_id, customer_id, product_id, application_id,
                           limit_amount, used_amount, annual_rate, contract_no, valid_until,
                           status, created_at, updated_at)
    SELECT pg_temp.uid('credit-line', c), CAST(:institution AS uuid), customer_id,
           pg_temp.uid('product', 1), pg_temp.uid('application', c), limit_amount,
           (limit_amount * pg_temp.unit('used', c) * 0.6)::bigint, 550000000,
           'PBSX' || lpad(c::text, 10, '0'), valid_until,
           CASE WHEN valid_until < CAST(:last_day AS date) THEN 'EXPIRED' ELSE 'ACTIVE' END,
           opened_at, opened_at
    FROM plan_lines""",
)

# Merchant m applied on day (m - 1) * 727 / 300 and was reviewed two days later: one in twenty
# still pending, one in twenty suspended since. Its onboarding officer manages it.
_MERCHANTS = (
    """CREATE TEMP TABLE plan_merchants AS
    SELECT m, pg_temp.uid('merchant', m) AS id, officer, applied_on, applied_on + 2 AS reviewed_on,
           CASE WHEN m % 20 = 0 THEN 'PENDING' WHEN m % 20 = 1 THEN 'SUSPENDED'
                ELSE 'APPROVED' END AS status
    FROM (
        SELECT m, 1 + floor(pg_temp.unit('merchant-officer', m) * :officers)::int AS officer,
               CAST(:first_day AS date) + ((m - 1) * (:days - 3) / :merchants)::int AS applied_on
        FROM generate_series(1, :merchants) AS m
    ) AS drawn""",
    """INSERT INTO merchants (id, institution_id, name, uscc, category, address,
                           contact_phone_ct, settlement_account_ct, settlement_account_last4,
                           legal_representative_id_ct, key_id, status, status_reason,
                           onboarded_by, reviewed_by, reviewed_at, created_at, updated_at)
    SELECT id, CAST(:institution AS uuid), '便民商户' || m || '号',
           '9122010000' || lpad(m::text, 8, '0'),
           (ARRAY['SUPERMARKET', 'CATERING', 'AGRICULTURAL_SUPPLIES', 'PHARMACY', 'TELECOM',
                  'FUEL', 'SERVICES', 'OTHER'])[1 + m % 8],
           '吉林省长春市便民路' || m || '号', pg_temp.blob('merchant-phone', m, 44),
           pg_temp.blob('merchant-account', m, 52), lpad((m % 10000)::text, 4, '0'),
           pg_temp.blob('merchant-legal', m, 51), 1, status,
           CASE status WHEN 'PENDING' THEN '' WHEN 'SUSPENDED' THEN '经营异常,暂停受理'
                       ELSE '资料齐全,同意入驻' END,
           pg_temp.uid('staff', officer),
           CASE WHEN status <> 'PENDING'
                THEN pg_temp.uid('staff', :officers + (officer - 1) % :branches + 1) END,
           CASE WHEN status <> 'PENDING'
                THEN (reviewed_on + time '15:00') AT TIME ZONE 'Asia/Shanghai' END,
           (applied_on + time '09:30') AT TIME ZONE 'Asia/Shanghai',
           (CASE WHEN status = 'PENDING' THEN applied_on ELSE reviewed_on END + time '15:00')
               AT TIME ZONE 'Asia/Shanghai'
    FROM plan_merchants""",
    """INSERT INTO merchant_operators (id, institution_id, merchant_id, username, display_name,
                           password_hash, active, created_at)
    SELECT pg_temp.uid('operator', m), CAST(:institution AS uuid), id,
           'pb-cashier-' || lpad(m::text, 4, '0'), '收银员' || m, :password_hash, true,
           (reviewed_on + time '16:00') AT TIME ZONE 'Asia/Shanghai'
    FROM plan_merchants WHERE status <> 'PENDING'""",
    """INSERT INTO portfolio_assignments (id, institution_id, subject_kind, subject_id,
                           staff_id, valid_from, valid_until, assigned_by, created_at)
    SELECT pg_temp.uid('merchant-assignment', m), CAST(:institution AS uuid), 'MERCHANT', id,
           pg_temp.uid('staff', officer), reviewed_on, NULL, NULL,
           (reviewed_on + time '15:00') AT TIME ZONE 'Asia/Shanghai'
    FROM plan_merchants WHERE status <> 'PENDING'""",
    # Redemption r on day 3 + (r - 1) * 727 / 100,000, at a merchant reviewed before that day,
    # by a customer registered before it; 95% completed.
    """INSERT INTO redemptions (id, institution_id, merchant_id, operator_id, customer_id,
                           points, code, status, business_date, created_at, updated_at)
    SELECT pg_temp.uid('redemption', r), CAST(:institution AS uuid),
           pg_temp.uid('merchant', merchant), pg_temp.uid('operator', merchant),
           pg_temp.uid('customer', customer), 10 * (1 + floor(pg_temp.unit('points', r) * 50)),
           lpad(r::text, 18, '0'),
           CASE WHEN pg_temp.unit('redeemed', r) < 0.95 THEN 'COMPLETED' ELSE 'DECLINED' END,
           on_date, at, at
    FROM (
        SELECT r, on_date,
               (on_date + time '09:00' + pg_temp.unit('redeemed-at', r) * interval '11 hours')
                   AT TIME ZONE 'Asia/Shanghai' AS at,
               CASE WHEN drawn % 20 = 0 THEN drawn - 1 ELSE drawn END AS merchant,
               1 + floor(pg_temp.unit('redeemer', r)
                         * ((on_date - CAST(:customers_from AS date))::bigint
                            * :customers / :customer_days))::int AS customer
        FROM (
            SELECT r, on_date,
                   1 + floor(pg_temp.unit('merchant', r)
                             * GREATEST(1, (on_date - CAST(:first_day AS date) - 2)
                                           * :merchants / (:days - 3)))::int AS drawn
            FROM (
                SELECT r, CAST(:first_day AS date) + 3
                              + ((r - 1)::bigint * (:days - 3) / :redemptions)::int AS on_date
                FROM generate_series(1, :redemptions) AS r
            ) AS dated
        ) AS placed
    ) AS redeemed""",
)

# Core banking's daily file, per staff member: deposits growing 25% over the two years with a
# monthly swing and daily noise, a low-cost share of 30-50%, a few social security cards.
_IMPORTED_FACTS = """INSERT INTO performance_facts (institution_id, fact_date, source, key,
                           metric, staff_id, customer_id, value, recorded_at)
    SELECT CAST(:institution AS uuid), fact_date, :core_source, fact.metric || ':' || username,
           fact.metric, pg_temp.uid('staff', s), NULL, fact.value,
           (fact_date + 1 + time '02:00') AT TIME ZONE 'Asia/Shanghai'
    FROM generate_series(0, :days - 1) AS t
    CROSS JOIN generate_series(1, :staff) AS s
    CROSS JOIN LATERAL (
        SELECT CAST(:first_day AS date) + t AS fact_date,
               'pb-' || lpad(s::text, 4, '0') AS username,
               (5000000 + pg_temp.unit('deposit', s) * 45000000)
                   * (0.8 + 0.2 * t::double precision / (:days - 1))
                   * (1 + 0.04 * sin(2 * pi() * (t + 30 * pg_temp.unit('phase', s)) / 30.4))
                   * (1 + 0.02 * (pg_temp.unit('deposit-day', s * 1000 + t) - 0.5)) AS deposit,
               0.3 + 0.2 * pg_temp.unit('low-cost', s)
                   + 0.02 * (pg_temp.unit('low-cost-day', s * 1000 + t) - 0.5) AS low_cost,
               floor(pg_temp.unit('cards', s * 1000 + t) ^ 3 * 6)::bigint AS issued,
               pg_temp.unit('activated', s * 1000 + t) AS activated
    ) AS drawn
    CROSS JOIN LATERAL (VALUES
        ('DEPOSIT_BALANCE', round(deposit * 100)::bigint),
        ('LOW_COST_DEPOSIT_BALANCE', round(deposit * low_cost * 100)::bigint),
        ('SOCIAL_SECURITY_CARDS_ISSUED', issued * 100),
        ('SOCIAL_SECURITY_CARDS_ACTIVATED', floor(issued * (0.5 + 0.4 * activated))::bigint * 100)
    ) AS fact(metric, value)"""

# The positions of the days before the last, from the last day's as `record_positions` wrote
# them: 30% lower two years ago, with noise of ±1.5% a day; counts stay whole.
_PAST_POSITIONS = """INSERT INTO performance_facts (institution_id, fact_date, source, key,
                           metric, staff_id, customer_id, value, recorded_at)
    SELECT f.institution_id, f.fact_date - back, f.source, f.key, f.metric, f.staff_id, NULL,
           CASE WHEN f.metric IN ('HOUSEHOLDS_SERVED', 'VILLAGE_HOUSEHOLDS',
                                  'VILLAGE_HOUSEHOLDS_WITH_CREDIT', 'MERCHANTS_MAINTAINED')
                THEN round(f.value * factor / 100)::bigint * 100
                ELSE round(f.value * factor)::bigint END,
           (f.fact_date - back + 1 + time '01:00') AT TIME ZONE 'Asia/Shanghai'
    FROM generate_series(1, :days - 1) AS back
    CROSS JOIN performance_facts AS f
    CROSS JOIN LATERAL (
        SELECT (1 - 0.3 * back::double precision / (:days - 1))
               * (1 + 0.03 * (pg_temp.unit(f.key, back) - 0.5)) AS factor
    ) AS drawn
    WHERE f.institution_id = CAST(:institution AS uuid) AND f.source = 'PLATFORM'
      AND f.fact_date = CAST(:last_day AS date)
    ORDER BY back DESC"""


@dataclass(frozen=True, slots=True)
class Dataset:
    """A built database: where it is, the last day of its facts, how long building took."""

    database_url: str
    last_day: date
    built_at: str
    build_seconds: float
    steps: dict[str, float]
    reused: bool

    @property
    def today(self) -> date:
        """The day the scoreboards are asked for: the day after the last one with facts."""
        return self.last_day + timedelta(days=1)

    @property
    def open_month(self) -> Period:
        return Period.month_of(self.today)

    @property
    def complete_month(self) -> Period:
        return self.open_month.previous()


def prepare(database_url: str, *, reuse: bool, say: Callable[[str], None]) -> Dataset:
    """The bench data: the database's own when `reuse` and its marker matches, else built now
    (the database created if missing, its schema `public` emptied, the migrations run)."""
    if reuse:
        found, reason = asyncio.run(_marked(database_url))
        if found is not None:
            return found
        say(f"performance data not reused: {reason}")
    began = time.perf_counter()
    asyncio.run(dataset.reset_database(database_url))
    upgrade(database_url)
    migrated = time.perf_counter() - began
    say(f"  schema public emptied, migrations run: {migrated:.1f} s")
    last_day = business_date(datetime.now(UTC)) - timedelta(days=1)
    return asyncio.run(_build(database_url, last_day, say, migrated))


def _schema_fingerprint() -> str:
    """A digest of every migration's source: a migration edited in place (indexes added to the
    head revision, say) changes it as surely as a new revision does."""
    digest = hashlib.sha256()
    for script in sorted((Path(migrations.__file__).parent / "versions").glob("*.py")):
        digest.update(script.name.encode() + b"\0" + script.read_bytes())
    return digest.hexdigest()[:16]


async def _marked(database_url: str) -> tuple[Dataset | None, str]:
    """The data described by the database's marker, or None and why not."""
    engine = create_engine(database_url, pool_size=1, autocommit=True)
    try:
        async with engine.connect() as connection:
            comment = await connection.scalar(
                text("SELECT obj_description('public'::regnamespace, 'pg_namespace')")
            )
    except (OSError, DBAPIError) as error:
        return None, f"cannot read it ({error.__class__.__name__}: {error})"
    finally:
        await engine.dispose()
    marker = json.loads(comment) if comment and comment.startswith("{") else {}
    if marker.get("generator") != GENERATOR:
        return None, "no marker of this generator (never built, or built by another version)"
    if marker.get("schema") != _schema_fingerprint():
        return None, "the migrations changed since it was built"
    return Dataset(
        database_url,
        date.fromisoformat(marker["last_day"]),
        marker["built_at"],
        float(marker["seconds"]),
        {name: float(seconds) for name, seconds in marker["steps"].items()},
        reused=True,
    ), ""


async def _build(
    database_url: str, last_day: date, say: Callable[[str], None], migrated: float
) -> Dataset:
    """Every step of the data, each in its own transaction on one session; then VACUUM
    (ANALYZE), as autovacuum would have left the tables of a live institution (statistics,
    the visibility map for index-only scans), and the marker."""
    began = time.perf_counter() - migrated
    parameters = _parameters(last_day)
    steps = {"schema and migrations": migrated}
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            await connection.exec_driver_sql("SET synchronous_commit = off")
            for statement in _FUNCTIONS:
                await connection.exec_driver_sql(statement)
            for step in _plan():
                started = time.perf_counter()
                for statement in step.statements:
                    await connection.execute(_typed(statement, parameters))
                if step.then is not None:
                    await step.then(connection, last_day)
                await connection.commit()
                steps[step.name] = time.perf_counter() - started
                say(f"  {step.name}: {steps[step.name]:.1f} s")
    finally:
        await engine.dispose()
    engine = create_engine(database_url, pool_size=1, autocommit=True)
    try:
        async with engine.connect() as connection:
            started = time.perf_counter()
            await connection.exec_driver_sql("VACUUM (ANALYZE)")
            steps["vacuum (analyze)"] = time.perf_counter() - started
            say(f"  vacuum (analyze): {steps['vacuum (analyze)']:.1f} s")
            built = Dataset(
                database_url,
                last_day,
                datetime.now(UTC).isoformat(timespec="seconds"),
                time.perf_counter() - began,
                steps,
                reused=False,
            )
            await connection.exec_driver_sql(_marker_statement(built))
    finally:
        await engine.dispose()
    return built


@dataclass(frozen=True, slots=True)
class Step:
    """Statements of the bench, then possibly work done with the project's own code."""

    name: str
    statements: Sequence[str] = ()
    then: Callable[[AsyncConnection, date], Awaitable[None]] | None = None


def _plan() -> list[Step]:
    """The steps, named as the output reports them, in an order the foreign keys allow. Each
    analyzes what it wrote: the next steps' plans (`record_positions` among them) need the
    statistics, and autovacuum may be off or late."""
    return [
        Step("institution, branches, villages, staff", _ORGANISATION),
        Step("loan products", then=_products),
        Step("customers", (*_CUSTOMER_PLAN, _CUSTOMERS, "ANALYZE customers")),
        Step("portfolio assignments", (_CUSTOMER_ASSIGNMENTS, "ANALYZE portfolio_assignments")),
        Step("loans", (_LOANS, "ANALYZE loans")),
        Step(
            "credit lines and their applications",
            (*_CREDIT_LINES, "ANALYZE loan_applications", "ANALYZE credit_lines"),
        ),
        Step(
            "merchants, cashiers, assignments, redemptions",
            (
                *_MERCHANTS,
                "ANALYZE merchants",
                "ANALYZE portfolio_assignments",
                "ANALYZE redemptions",
            ),
        ),
        Step(
            "imported facts (deposits, social security cards)",
            (_IMPORTED_FACTS, "ANALYZE performance_facts"),
        ),
        Step("positions of the last day (record_positions)", then=_last_positions),
        Step("positions of the days before", (_PAST_POSITIONS,)),
        Step("assessment scheme", then=_scheme),
    ]


async def _products(connection: AsyncConnection, _last_day: date) -> None:
    """The demo's seven products, their terms as the product catalog stores them."""
    await connection.execute(
        insert(loan_products),
        [
            {
                "id": uid("product", number),
                "institution_id": INSTITUTION_ID,
                "code": code,
                "version": 1,
                "name": terms.name,
                "terms": terms_document(terms),
                "active": True,
                "created_by": uid("staff", ADMIN),
                "created_at": datetime.now(UTC),
            }
            for number, (code, terms) in enumerate(demo_products(), start=1)
        ],
    )


async def _last_positions(connection: AsyncConnection, last_day: date) -> None:
    await SqlPerformanceRepository(connection).record_positions(
        INSTITUTION_ID, last_day, now=datetime.now(UTC)
    )


async def _scheme(connection: AsyncConnection, _last_day: date) -> None:
    await SqlPerformanceRepository(connection).add_scheme(officers_scheme(datetime.now(UTC)))


def _typed(statement: str, parameters: dict[str, Any]) -> TextClause:
    """The statement with its parameters bound and typed, so that PostgreSQL is told each
    one's type (`$1::INTEGER`) instead of guessing it from where it stands."""
    return text(statement).bindparams(
        *(
            bindparam(name, value, type_=_TYPES[type(value)])
            for name, value in parameters.items()
            if re.search(rf"(?<![:\w]):{name}(?!\w)", statement)
        )
    )


_TYPES: dict[type, TypeEngine[Any]] = {
    int: Integer(),
    str: String(),
    date: Date(),
    datetime: DateTime(timezone=True),
    uuid.UUID: Uuid(),
}


def _parameters(last_day: date) -> dict[str, Any]:
    return {
        "institution": INSTITUTION_ID,
        "founded": datetime(2010, 1, 1, tzinfo=UTC),
        "last_day": last_day,
        "first_day": last_day - timedelta(days=DAYS - 1),
        "customers_from": last_day - timedelta(days=CUSTOMER_DAYS - 1),
        "days": DAYS,
        "customer_days": CUSTOMER_DAYS,
        "branches": BRANCHES,
        "villages_per_branch": VILLAGES_PER_BRANCH,
        "officers": OFFICERS,
        "staff": STAFF,
        "customers": CUSTOMERS,
        "loans": LOANS,
        "merchants": MERCHANTS,
        "redemptions": REDEMPTIONS,
        "core_source": CORE_SOURCE,
        # Every login of the bench signs in with the demo password.
        "password_hash": PasswordHasher().hash(DEMO_PASSWORD),
    }


def _marker_statement(built: Dataset) -> str:
    marker = {
        "generator": GENERATOR,
        "schema": _schema_fingerprint(),
        "last_day": built.last_day.isoformat(),
        "built_at": built.built_at,
        "seconds": round(built.build_seconds, 1),
        "steps": {name: round(seconds, 1) for name, seconds in built.steps.items()},
    }
    quoted = json.dumps(marker, ensure_ascii=False).replace("'", "''")
    return f"COMMENT ON SCHEMA public IS '{quoted}'"


# The scheme: twelve indicators of the catalog, of every kind of reading, weights summing to 100.
# Monthly targets near a typical officer's figures; branches 1-10 have a higher lending target.
_INDICATORS = (
    ("LOANS_DISBURSED_AMOUNT", "15", "3000000"),
    ("OUTSTANDING_BALANCE", "15", "32000000"),
    ("NEW_CREDIT_LINES", "10", "10"),
    ("CREDIT_UTILIZATION", "5", "0.7"),
    ("OVERDUE_RATE", "10", "0.05"),
    ("NON_PERFORMING_RATIO", "5", "0.02"),
    ("NEW_CUSTOMERS", "5", "12"),
    ("REFERRALS", "5", "2"),
    ("POINTS_REDEEMED", "5", "2000"),
    ("DEPOSIT_BALANCE", "10", "28000000"),
    ("DEPOSIT_DAILY_AVERAGE", "10", "28000000"),
    ("LOW_COST_DEPOSIT_SHARE", "5", "0.4"),
)


def officers_scheme(now: datetime) -> Scheme:
    series = uid("scheme", 1)
    return Scheme(
        id=series,
        series_id=series,
        version=1,
        institution_id=INSTITUTION_ID,
        name="客户经理月度考核",
        role=ROLE,
        branch_id=None,
        staff_id=None,
        period_kind=PeriodKind.MONTH,
        indicators=tuple(
            SchemeIndicator(code, Decimal(weight), Decimal(target), Decimal("1.2"), Decimal(0))
            for code, weight, target in _INDICATORS
        ),
        targets=tuple(
            Target("LOANS_DISBURSED_AMOUNT", Decimal("3500000"), branch_id=uid("branch", branch))
            for branch in range(1, 11)
        ),
        bonus_pool=Decimal("2000000.00"),
        active=True,
        created_by=uid("staff", ADMIN),
        created_at=now,
    )


def scheme_document() -> dict[str, Any]:
    return {
        "role": ROLE.value,
        "indicators": [
            {"code": code, "weight": weight, "target": target}
            for code, weight, target in _INDICATORS
        ],
        "branch_targets": "LOANS_DISBURSED_AMOUNT 3500000 in branches 1-10",
    }


# Sizes ------------------------------------------------------------------------------------------

SIZED_TABLES = (
    "staff",
    "customers",
    "portfolio_assignments",
    "loans",
    "loan_applications",
    "credit_lines",
    "merchants",
    "redemptions",
    "performance_facts",
)


SETTINGS = ("shared_buffers", "work_mem", "jit", "max_parallel_workers_per_gather", "autovacuum")


@dataclass(frozen=True, slots=True)
class Survey:
    """What the figures depend on besides the code: the server and the data's size."""

    version: str
    settings: dict[str, str]
    tables: list[tuple[str, int, int]]  # name, rows, bytes with indexes and TOAST

    def table(self) -> str:
        lines = ["| table | rows | MB with indexes |", "| --- | ---: | ---: |"]
        lines += [
            f"| {name} | {rows:,} | {size / 2**20:,.0f} |" for name, rows, size in self.tables
        ]
        return "\n".join(lines)


async def survey(database_url: str) -> Survey:
    engine = create_engine(database_url, pool_size=1, autocommit=True)
    tables = []
    try:
        async with engine.connect() as connection:
            version = str(await connection.scalar(text("SHOW server_version")))
            settings = {
                name: str(await connection.scalar(text(f"SHOW {name}"))) for name in SETTINGS
            }
            for table in SIZED_TABLES:
                rows = await connection.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: S608
                size = await connection.scalar(
                    text("SELECT pg_total_relation_size(CAST(:table AS regclass))"),
                    {"table": table},
                )
                tables.append((table, int(rows or 0), int(size or 0)))
    finally:
        await engine.dispose()
    return Survey(version, settings, tables)


# Scoreboard timings -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timing:
    """Wall-clock milliseconds of one kind of scoreboard call, run after run, and where the
    CPU went meanwhile (percent of one CPU, by process group; see `servers.CpuSnapshot`)."""

    path: str  # "service" (in this process) or "http"
    period: Period
    label: str  # which month it is to the bench
    cache: str  # "cold" or "warm"
    samples_ms: tuple[float, ...]
    cpu: dict[str, float]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95_ms(self) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]

    @property
    def best_ms(self) -> float:
        return min(self.samples_ms)

    @property
    def target_ms(self) -> float:
        return TARGET_COLD_MS if self.cache == "cold" else TARGET_WARM_MS

    @property
    def passed(self) -> bool:
        return self.median_ms < self.target_ms

    def document(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "period": self.period.name,
            "month": self.label,
            "cache": self.cache,
            "median_ms": self.median_ms,
            "p95_ms": self.p95_ms,
            "best_ms": self.best_ms,
            "target_ms": self.target_ms,
            "pass": self.passed,
            "samples_ms": list(self.samples_ms),
            "cpu": self.cpu,
        }


@dataclass(frozen=True, slots=True)
class Month:
    """A month the bench asks for, and whether the month before it is closed meanwhile."""

    label: str
    period: Period
    previous_closed: bool = False


@dataclass(frozen=True, slots=True)
class Series:
    """Runs one kind of call cold and warm. Cold: the institution's cache generation is moved
    on before each run, as imported facts move it, so neither Redis nor a process's decoded
    boards answer; after a first run that is not counted (it warms PostgreSQL's buffers)."""

    data: Dataset
    redis_url: str
    cold_runs: int
    warm_runs: int

    async def timings(
        self,
        path: str,
        call: Callable[[Period], Awaitable[object]],
        *,
        server_pid: int = -1,
    ) -> list[Timing]:
        cache = create_cache(self.redis_url)
        found = []
        try:
            for month in months(self.data):
                await set_closed(self.data, month, cache)
                await forget_figures(cache, INSTITUTION_ID)
                await call(month.period)
                before = servers.CpuSnapshot.take()
                cold = []
                for _ in range(self.cold_runs):
                    await forget_figures(cache, INSTITUTION_ID)
                    cold.append(await _timed(call, month.period))
                middle = servers.CpuSnapshot.take()
                warm = [await _timed(call, month.period) for _ in range(self.warm_runs)]
                after = servers.CpuSnapshot.take()
                found += [
                    Timing(path, month.period, month.label, "cold", tuple(cold),
                           _cpu(middle.usage_since(before, server_pid=server_pid))),
                    Timing(path, month.period, month.label, "warm", tuple(warm),
                           _cpu(after.usage_since(middle, server_pid=server_pid))),
                ]  # fmt: skip
        finally:
            await reopen(self.data, cache)
            await cache.close()
        return found


async def set_closed(data: Dataset, month: Month, cache: Cache) -> None:
    """Close the month before `month` for its scenario, or reopen it for the others."""
    if not month.previous_closed:
        await reopen(data, cache)
        return
    engine = create_engine(data.database_url, pool_size=1)
    try:
        async with engine.connect() as connection:

            async def connect() -> AsyncConnection:
                return connection

            await close_period(
                SqlUnitOfWork(connect),
                cache,
                None,
                institution_id=INSTITUTION_ID,
                period=month.period.previous(),
                today=data.today,
                now=datetime.now(UTC),
                request_id="bench",
            )
    finally:
        await engine.dispose()


async def reopen(data: Dataset, cache: Cache) -> None:
    """Undo the bench's closings, so a later run finds its months open."""
    engine = create_engine(data.database_url, pool_size=1)
    try:
        async with engine.begin() as connection:
            for table in ("performance_snapshots", "performance_closures"):
                await connection.execute(
                    text(f"DELETE FROM {table} WHERE institution_id = :institution"),  # noqa: S608
                    {"institution": INSTITUTION_ID},
                )
    finally:
        await engine.dispose()
    await forget_figures(cache, INSTITUTION_ID)


async def _timed(call: Callable[[Period], Awaitable[object]], period: Period) -> float:
    started = time.perf_counter()
    await call(period)
    return (time.perf_counter() - started) * 1000


def _cpu(usage: dict[str, float]) -> dict[str, float]:
    """The process groups' shares, without the per-CPU and per-name details."""
    return {
        group: round(usage[f"{group}_cpu_percent"], 1)
        for group in ("server", "bench", "postgres", "redis", "other")
    }


def months(data: Dataset) -> list[Month]:
    """The last complete month and the open one with every month open, then the open one once
    the complete month is closed, as it is after month-end closing."""
    return [
        Month("complete", data.complete_month),
        Month("open", data.open_month),
        Month("open, previous closed", data.open_month, previous_closed=True),
    ]


async def measure_service(data: Dataset, series: Series) -> tuple[list[Timing], list[Scoreboard]]:
    """`scoreboard(...)` in this process, as a request runs it: a connection of an autocommit
    engine like the application's readers, the Redis cache. The boards, to show."""
    engine = create_engine(data.database_url, pool_size=2, autocommit=True)
    cache = create_cache(series.redis_url)

    async def call(period: Period) -> Scoreboard:
        async with engine.connect() as connection:
            return await scoreboard(
                SqlPerformanceRepository(connection),
                cache,
                institution_id=INSTITUTION_ID,
                period=period,
                role=ROLE,
                today=data.today,
            )

    try:
        timings = await series.timings("service", call)
        boards = [await call(period) for period in (data.complete_month, data.open_month)]
    finally:
        await cache.close()
        await engine.dispose()
    return timings, boards


# The first page of the board as a manager's screen asks for it.
SCOREBOARD_QUERY = (
    "query Board($period: String!) { performanceScoreboard(period: $period, role: LOAN_OFFICER) "
    "{ period asOf totalCount totalBonus entries(first: 20) { edges { node { rank rankChange "
    "totalScore bonusShare staff { displayName } indicators { indicator { code } actual target "
    "attainment score } } } } } }"
)
ADMIN_USERNAME = f"pb-{ADMIN:04d}"


def measure_http(data: Dataset, series: Series, port: int, server_pid: int) -> list[Timing]:
    """The whole GraphQL request over loopback, one at a time on a keep-alive connection,
    signed in as an institution admin; the server computes for its own today."""
    graph = api.Api(port)
    try:
        token = graph.sign_in(ADMIN_USERNAME, DEMO_PASSWORD)
    finally:
        graph.close()
    return asyncio.run(_measure_http(data, series, port, server_pid, token))


async def _measure_http(
    data: Dataset, series: Series, port: int, server_pid: int, token: str
) -> list[Timing]:
    async with httpx.AsyncClient(
        base_url=f"http://{servers.HOST}:{port}", trust_env=False, timeout=60.0
    ) as client:

        async def call(period: Period) -> None:
            response = await client.post(
                "/graphql",
                json={"query": SCOREBOARD_QUERY, "variables": {"period": period.name}},
                headers={"authorization": f"Bearer {token}"},
            )
            body = response.json()
            if response.status_code != 200 or body.get("errors"):
                raise RuntimeError(f"performanceScoreboard: HTTP {response.status_code} {body}")
            if not (body["data"]["performanceScoreboard"] or {}).get("totalCount"):
                raise RuntimeError(f"performanceScoreboard ranked nobody: {body}")

        return await series.timings("http", call, server_pid=server_pid)


def timings_table(timings: Sequence[Timing]) -> str:
    lines = [
        "| scoreboard (LOAN_OFFICER) | path | cache | runs | median ms | p95 ms | best ms "
        "| target ms | | PostgreSQL CPU % | bench CPU % | server CPU % | other processes CPU % |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for timing in timings:
        cpu = timing.cpu
        lines.append(
            f"| {timing.period.name} ({timing.label}) | {timing.path} | {timing.cache} "
            f"| {len(timing.samples_ms)} | {timing.median_ms:,.1f} | {timing.p95_ms:,.1f} "
            f"| {timing.best_ms:,.1f} | < {timing.target_ms:g} "
            f"| {'PASS' if timing.passed else 'FAIL'} | {cpu['postgres']:.0f} | {cpu['bench']:.0f} "
            f"| {cpu['server']:.0f} | {cpu['other']:.0f} |"
        )
    return "\n".join(lines)


def indicators_table(board: Scoreboard) -> str:
    """Across the officers scored: the median actual, the default target, the median
    attainment, and how many reach their target; to see that the figures are plausible."""
    lines = [
        "| indicator | weight | target | median actual | median attainment | at target |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    codes = [item.code for item in board.results[0].indicators] if board.results else []
    for position, code in enumerate(codes):
        items = [result.indicators[position] for result in board.results]
        actuals = [item.actual for item in items if item.actual is not None]
        median_actual = statistics.median(actuals) if actuals else None
        reached = sum(1 for item in items if item.attainment >= 1)
        lines.append(
            f"| {code} | {items[0].weight} | {_plain(items[0].target)} "
            f"| {_plain(median_actual)} | {statistics.median(i.attainment for i in items)} "
            f"| {reached} of {len(items)} |"
        )
    return "\n".join(lines)


def _plain(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:,f}"


# Readings one by one (--explain) ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Statement:
    """One SQL statement a reading ran, as PostgreSQL's EXPLAIN (ANALYZE, BUFFERS) saw it."""

    sql: str
    execution_ms: float
    planning_ms: float
    jit_ms: float
    shared_hit: int
    shared_read: int
    slowest_node: str  # the plan node with the most time of its own
    slowest_node_ms: float
    plan: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ReadingTiming:
    """One `repository.read` call: of every reading of a month's scoreboard at once, as
    `compute` makes it, or of one reading alone."""

    period: Period
    readings: tuple[Reading, ...]
    alone: bool
    read_ms: tuple[float, ...]  # wall clock of the call, repeated
    values: int  # (reading, staff member) values returned
    statements: tuple[Statement, ...]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.read_ms)

    @property
    def name(self) -> str:
        if not self.alone:
            return f"all {len(self.readings)} readings, as `compute` reads them"
        (reading,) = self.readings
        window = f"{reading.start}..{reading.end}" if reading.start else f"on {reading.end}"
        return f"{reading.kind.value} {reading.measure.value} {window}"


async def explain(data: Dataset) -> list[ReadingTiming]:
    """For both months, the readings of the scoreboard read together, then each alone: the
    wall-clock time of the call and the EXPLAIN (ANALYZE, BUFFERS) of every statement it ran;
    slowest first."""
    engine = create_engine(data.database_url, pool_size=1, autocommit=True)
    found = []
    try:
        async with engine.connect() as connection:
            repository = SqlPerformanceRepository(connection)
            for period in (data.complete_month, data.open_month):
                wanted = await _readings(repository, period, data.today)
                found.append(await _read_timing(engine, connection, period, wanted, alone=False))
                for reading in wanted:
                    found.append(
                        await _read_timing(engine, connection, period, [reading], alone=True)
                    )
    finally:
        await engine.dispose()
    return sorted(found, key=lambda timing: -timing.median_ms)


async def _read_timing(
    engine: AsyncEngine,
    connection: AsyncConnection,
    period: Period,
    wanted: list[Reading],
    *,
    alone: bool,
) -> ReadingTiming:
    repository = SqlPerformanceRepository(connection)
    with _captured(engine) as statements:
        values = await repository.read([INSTITUTION_ID], wanted, by_staff=True)
    read_ms = []
    for _ in range(EXPLAIN_REPEATS):
        started = time.perf_counter()
        await repository.read([INSTITUTION_ID], wanted, by_staff=True)
        read_ms.append((time.perf_counter() - started) * 1000)
    explained = [await _explain(connection, sql, parameters) for sql, parameters in statements]
    return ReadingTiming(
        period,
        tuple(wanted),
        alone,
        tuple(read_ms),
        sum(len(per_staff) for per_staff in values.values()),
        tuple(explained),
    )


async def _readings(
    repository: SqlPerformanceRepository, period: Period, today: date
) -> list[Reading]:
    """The readings a scoreboard of the period asks for, as `compute` gathers them."""
    schemes = await repository.current_schemes([INSTITUTION_ID], role=ROLE, kind=period.kind)
    as_of = period.as_of(today)
    wanted = [
        reading
        for scheme in schemes
        for item in scheme.indicators
        for reading in readings(CATALOG[item.code].formula, period, as_of)
    ]
    return list(dict.fromkeys(wanted))


@contextmanager
def _captured(engine: AsyncEngine) -> Iterator[list[tuple[str, Any]]]:
    """The statements the engine sends meanwhile, with their parameters as sent."""
    statements: list[tuple[str, Any]] = []

    def capture(*args: Any) -> None:
        _connection, _cursor, sql, parameters, _context, _many = args
        statements.append((sql, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)


async def _explain(connection: AsyncConnection, sql: str, parameters: Any) -> Statement:
    result = await connection.exec_driver_sql(
        f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", parameters
    )
    document = result.scalar_one()
    (found,) = json.loads(document) if isinstance(document, str) else document
    plan = found["Plan"]
    node, own_ms = max(_own_times(plan), key=lambda pair: pair[1])
    return Statement(
        sql=sql,
        execution_ms=float(found["Execution Time"]),
        planning_ms=float(found["Planning Time"]),
        jit_ms=float(found.get("JIT", {}).get("Timing", {}).get("Total", 0.0)),
        shared_hit=int(plan.get("Shared Hit Blocks", 0)),
        shared_read=int(plan.get("Shared Read Blocks", 0)),
        slowest_node=node,
        slowest_node_ms=own_ms,
        plan=found,
    )


def _own_times(plan: dict[str, Any]) -> Iterator[tuple[str, float]]:
    """Each node's name and the milliseconds spent in it, less its children's."""
    children = plan.get("Plans", [])
    total = float(plan.get("Actual Total Time", 0.0)) * int(plan.get("Actual Loops", 1))
    inner = sum(
        float(child.get("Actual Total Time", 0.0)) * int(child.get("Actual Loops", 1))
        for child in children
    )
    relation = plan.get("Relation Name") or plan.get("Index Name")
    name = plan["Node Type"] + (f" on {relation}" if relation else "")
    yield name, max(0.0, total - inner)
    for child in children:
        yield from _own_times(child)


def readings_table(found: Sequence[ReadingTiming]) -> str:
    lines = [
        "| month | reading | read ms (median) | statements | SQL ms | planning ms | JIT ms "
        "| buffers hit/read | slowest node (own ms) | values |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: |",
    ]
    for timing in found:
        statements = timing.statements
        slowest = max(statements, key=lambda each: each.slowest_node_ms, default=None)
        lines.append(
            f"| {timing.period.name} | {timing.name} | {timing.median_ms:,.1f} "
            f"| {len(statements)} | {sum(each.execution_ms for each in statements):,.1f} "
            f"| {sum(each.planning_ms for each in statements):,.1f} "
            f"| {sum(each.jit_ms for each in statements):,.1f} "
            f"| {sum(each.shared_hit for each in statements):,}/"
            f"{sum(each.shared_read for each in statements):,} "
            f"| {slowest.slowest_node if slowest else '-'} "
            f"({slowest.slowest_node_ms if slowest else 0:,.1f}) | {timing.values:,} |"
        )
    return "\n".join(lines)


def reading_document(timing: ReadingTiming) -> dict[str, Any]:
    return {
        "period": timing.period.name,
        "reading": timing.name,
        "read_ms": list(timing.read_ms),
        "values": timing.values,
        "statements": [
            {
                "sql": each.sql,
                "execution_ms": each.execution_ms,
                "planning_ms": each.planning_ms,
                "jit_ms": each.jit_ms,
                "slowest_node": each.slowest_node,
                "slowest_node_ms": each.slowest_node_ms,
                "plan": each.plan,
            }
            for each in timing.statements
        ],
    }
