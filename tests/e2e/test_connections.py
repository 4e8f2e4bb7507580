"""One connection from the pools per request: a query's on the reader (the replica when there
is one), a mutation's on the primary, where its checks and its writes both run."""

from __future__ import annotations

import uuid

from jikuai.schema.relay import to_global_id
from tests.support.stack import PASSWORD, REGISTER, Stack, count_checkouts

CUSTOMER = """
query($id: ID!) { customer(id: $id) {
  id nameMasked institution { code } loans { id } creditLines { id } loanApplications { id } } }
"""
SIGN_IN = """
mutation($u: String!, $p: String!) {
  staffLogin(input: {username: $u, password: $p}) { accessToken userErrors { code } } }
"""


async def test_a_query_with_relations_takes_one_reader_connection(stack: Stack) -> None:
    registered = await stack.register("alpha-officer")
    token = await stack.token("alpha-officer")

    with count_checkouts(stack.services) as taken:
        body = await stack.gql(CUSTOMER, {"id": registered["customer"]["id"]}, token=token)

    assert "errors" not in body, body
    assert body["data"]["customer"]["institution"] == {"code": "alpha"}
    assert taken == ["reader"]


async def test_a_mutation_reads_and_writes_on_one_primary_connection(stack: Stack) -> None:
    with count_checkouts(stack.services) as taken:
        body = await stack.gql(SIGN_IN, {"u": "alpha-admin", "p": PASSWORD})

    assert body["data"]["staffLogin"]["accessToken"]  # read the staff member, wrote a token
    assert taken == ["writer"]


WECHAT_LOGIN = "mutation($c: String!) { wechatLogin(input: {code: $c}) { accessToken } }"


async def test_a_customer_token_from_before_registering_reads_on_the_primary(
    stack: Stack,
) -> None:
    signed_in = await stack.gql(WECHAT_LOGIN, {"c": f"dev:early-token-{uuid.uuid4().hex}"})
    early = signed_in["data"]["wechatLogin"]["accessToken"]
    institution_id = to_global_id("Institution", stack.world.institutions["alpha"].id)
    first = await stack.gql(
        REGISTER,
        {"input": stack.registration(institutionId=institution_id)},
        token=early,
    )
    assert first["data"]["registerCustomer"]["userErrors"] == [], first

    with count_checkouts(stack.services) as taken:
        # The token names no customer: the registration made since is looked up, then the
        # mutation writes; both on one connection.
        again = await stack.gql(
            REGISTER,
            {"input": stack.registration(institutionId=institution_id)},
            token=early,
        )

    assert again["data"]["registerCustomer"]["userErrors"], again
    assert taken == ["writer"]
