"""The scheduling centre: one record per job and business date, which is also the claim that
makes a job run once per date across workers."""

from sqlalchemy import JSON, Column, Date, Integer, String, Table, UniqueConstraint, Uuid

from jikuai.persistence.tables.base import UtcDateTime, metadata

job_runs = Table(
    "job_runs",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("job", String(64), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("worker", String(128), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("lease_until", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("counts", JSON, nullable=False),
    Column("summary", String(500), nullable=True),
    Column("error", String(300), nullable=True),
    # The claim: of several workers inserting the same (job, date), one row wins.
    UniqueConstraint("job", "business_date"),
)
