"""`make bench`: Jikuai's GraphQL API on PostgreSQL and Redis, loaded over loopback.

`python -m bench` prepares a database, seeds it, starts `jikuai serve` and hand-written
Starlette + asyncpg endpoints for `customer(id)` and for a 50-customer list with loans, then
measures both in the same run. See `bench/README.md`.
"""
