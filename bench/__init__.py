"""`make bench`: Jikuai's GraphQL API on PostgreSQL and Redis, loaded over loopback.

`python -m bench` prepares a database, seeds it, starts `jikuai serve` and a hand-written
Starlette + asyncpg endpoint for `customer(id)`, then measures both in the same run. See
`bench/README.md`.
"""
