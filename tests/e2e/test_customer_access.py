"""Who sees which customer: through customer, node, customers (with filters) and revealCustomer."""

from __future__ import annotations

import base64
import uuid

import pytest

from tests.support.stack import Stack

CUSTOMER = "query($id: ID!) { customer(id: $id) { id nameMasked institution { code } } }"
NODE = "query($id: ID!) { node(id: $id) { id ... on Customer { nameMasked } } }"
CUSTOMERS = """
query($first: Int, $after: String, $filter: CustomerFilter) {
  customers(first: $first, after: $after, filter: $filter) {
    edges { cursor node { id nameMasked segment institution { code } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


def _global_id(type_name: str, key: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode()


async def _alpha_customer(stack: Stack, **fields: str) -> dict:
    payload = await stack.register("alpha-officer", **fields)
    assert payload["userErrors"] == []
    customer: dict = payload["customer"]
    return customer


def _not_found(body: dict, field: str) -> bool:
    return body["data"] in (None, {field: None}) and [
        error["extensions"]["code"] for error in body["errors"]
    ] == ["NOT_FOUND"]


@pytest.mark.parametrize("username", ["alpha-officer", "alpha-risk", "alpha-manager", "prov-admin"])
async def test_staff_of_the_institution_and_the_province_see_a_customer(
    stack: Stack, username: str
) -> None:
    customer = await _alpha_customer(stack, name="刘德明")
    token = await stack.token(username)

    by_id = await stack.gql(CUSTOMER, {"id": customer["id"]}, token=token)
    by_node = await stack.gql(NODE, {"id": customer["id"]}, token=token)

    assert by_id["data"]["customer"]["nameMasked"] == "*明"
    assert by_node["data"]["node"] == {"id": customer["id"], "nameMasked": "*明"}


async def test_another_institution_gets_not_found_exactly_as_for_nothing(stack: Stack) -> None:
    customer = await _alpha_customer(stack)
    token = await stack.token("beta-officer")
    nowhere = _global_id("Customer", uuid.uuid4())

    for query, field in ((CUSTOMER, "customer"), (NODE, "node")):
        foreign = await stack.gql(query, {"id": customer["id"]}, token=token)
        missing = await stack.gql(query, {"id": nowhere}, token=token)
        garbage = await stack.gql(query, {"id": "%%%"}, token=token)

        assert _not_found(foreign, field)
        assert foreign["errors"][0]["message"] == missing["errors"][0]["message"]
        assert _not_found(garbage, field)


async def test_the_customer_list_is_scoped_to_the_institution(stack: Stack) -> None:
    id_number = stack.new_id_number()
    customer = await _alpha_customer(stack, id_number=id_number, phone="13700001111")
    sealed_id = {"idNumber": stack.seal("idNumber", id_number)}

    own = await stack.gql(
        CUSTOMERS, {"filter": sealed_id}, token=await stack.token("alpha-officer")
    )
    foreign = await stack.gql(
        CUSTOMERS,
        {"filter": {"idNumber": stack.seal("idNumber", id_number)}},
        token=await stack.token("beta-officer"),
    )
    everyone = await stack.gql(CUSTOMERS, {"first": 100}, token=await stack.token("beta-officer"))

    assert [edge["node"]["id"] for edge in own["data"]["customers"]["edges"]] == [customer["id"]]
    assert foreign["data"]["customers"]["edges"] == []
    assert {
        edge["node"]["institution"]["code"] for edge in everyone["data"]["customers"]["edges"]
    } <= {"beta"}


async def test_filters_by_phone_segment_and_village(stack: Stack) -> None:
    token = await stack.token("alpha-officer")
    village = _global_id("Village", stack.world.villages["alpha"].id)
    phone = f"1350000{uuid.uuid4().int % 10000:04d}"
    teacher = await _alpha_customer(stack, phone=phone, segment="TEACHER")
    villager = (
        await stack.gql(
            "mutation($input: RegisterCustomerInput!) { registerCustomer(input: $input) "
            "{ customer { id } userErrors { code } } }",
            {"input": stack.registration(villageId=village, segment="CIVIL_SERVANT")},
            token=token,
        )
    )["data"]["registerCustomer"]["customer"]

    async def ids(filter: dict) -> list[str]:
        body = await stack.gql(CUSTOMERS, {"first": 100, "filter": filter}, token=token)
        return [edge["node"]["id"] for edge in body["data"]["customers"]["edges"]]

    assert await ids({"phone": stack.seal("phone", f"+86 {phone}")}) == [teacher["id"]]
    assert teacher["id"] in await ids({"segment": "TEACHER"})
    assert villager["id"] not in await ids({"segment": "TEACHER"})
    in_village = await ids({"villageId": village})
    assert villager["id"] in in_village
    assert teacher["id"] not in in_village
    assert await ids({"villageId": "garbage"}) == []


async def test_a_bad_sealed_filter_is_a_clear_error(stack: Stack) -> None:
    body = await stack.gql(
        CUSTOMERS,
        {"filter": {"phone": stack.seal("idNumber", "13800000000")}},
        token=await stack.token("alpha-officer"),
    )

    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {
        "code": "ENVELOPE_INVALID",
        "field": ["filter", "phone"],
    }


async def test_keyset_pages_walk_the_whole_list_once(stack: Stack) -> None:
    token = await stack.token("beta-admin")
    for _ in range(5):
        assert (await stack.register("beta-admin"))["userErrors"] == []
    everything = await stack.gql(CUSTOMERS, {"first": 100}, token=token)
    expected = [edge["node"]["id"] for edge in everything["data"]["customers"]["edges"]]

    seen: list[str] = []
    after = None
    while True:
        body = await stack.gql(CUSTOMERS, {"first": 2, "after": after}, token=token)
        page = body["data"]["customers"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert seen == expected
    assert len(seen) >= 5


async def test_page_size_is_capped_at_100(stack: Stack) -> None:
    body = await stack.gql(CUSTOMERS, {"first": 1000}, token=await stack.token("alpha-officer"))

    assert len(body["data"]["customers"]["edges"]) <= 100


async def test_a_customer_sees_only_themself(stack: Stack) -> None:
    other = await _alpha_customer(stack)
    login = (
        await stack.gql(
            "mutation($c: String!) { wechatLogin(input: {code: $c}) { accessToken } }",
            {"c": f"dev:o{uuid.uuid4().hex[:16]}"},
        )
    )["data"]["wechatLogin"]
    token = login["accessToken"]
    alpha = _global_id("Institution", stack.world.institutions["alpha"].id)

    before = await stack.gql(CUSTOMERS, token=token)
    registered = await stack.gql(
        "mutation($input: RegisterCustomerInput!) { registerCustomer(input: $input) "
        "{ customer { id } userErrors { code } } }",
        {"input": stack.registration(institutionId=alpha)},
        token=token,
    )
    own_id = registered["data"]["registerCustomer"]["customer"]["id"]
    listed = await stack.gql(CUSTOMERS, token=token)

    assert before["data"]["customers"]["edges"] == []
    assert [edge["node"]["id"] for edge in listed["data"]["customers"]["edges"]] == [own_id]
    assert (await stack.gql(CUSTOMER, {"id": own_id}, token=token))["data"]["customer"][
        "id"
    ] == own_id
    assert _not_found(await stack.gql(CUSTOMER, {"id": other["id"]}, token=token), "customer")
    assert _not_found(await stack.gql(NODE, {"id": other["id"]}, token=token), "node")


async def test_customer_reads_need_a_token(stack: Stack) -> None:
    customer = await _alpha_customer(stack)

    for query, variables, field in (
        (CUSTOMER, {"id": customer["id"]}, "customer"),
        (NODE, {"id": customer["id"]}, "node"),
        (CUSTOMERS, {}, "customers"),
    ):
        body = await stack.gql(query, variables)

        assert body["data"] in (None, {field: None})
        assert [error["extensions"]["code"] for error in body["errors"]] == ["UNAUTHENTICATED"]


async def test_institutions_and_branches_are_public(stack: Stack) -> None:
    body = await stack.gql("{ institutions { id code branches { code } } }")
    by_code = {each["code"]: each for each in body["data"]["institutions"]}
    node = await stack.gql(
        "query($id: ID!) { node(id: $id) { ... on Institution { code } } }",
        {"id": by_code["alpha"]["id"]},
    )

    assert by_code["alpha"]["branches"] == [{"code": "alpha-01"}]
    assert node["data"]["node"] == {"code": "alpha"}


async def test_staff_are_visible_only_within_their_institution(stack: Stack) -> None:
    officer = _global_id("Staff", stack.world.staff["alpha-officer"].id)
    query = "query($id: ID!) { node(id: $id) { ... on Staff { username role } } }"

    own = await stack.gql(query, {"id": officer}, token=await stack.token("alpha-admin"))
    province = await stack.gql(query, {"id": officer}, token=await stack.token("prov-admin"))
    foreign = await stack.gql(query, {"id": officer}, token=await stack.token("beta-admin"))

    assert own["data"]["node"] == {"username": "alpha-officer", "role": "LOAN_OFFICER"}
    assert province["data"]["node"]["username"] == "alpha-officer"
    assert _not_found(foreign, "node")


async def test_listing_runs_the_same_statements_for_5_and_50(stack: Stack) -> None:
    token = await stack.token("alpha-officer")
    for _ in range(50):
        assert (await stack.register("alpha-officer"))["userErrors"] == []
    every_field = """
    query($first: Int) { customers(first: $first) { edges { cursor node {
      id segment gender age referralCode createdAt idNumberMasked phoneMasked nameMasked
      institution { id code name region kind branches { id code name } }
    } } pageInfo { hasNextPage endCursor } } }
    """
    counts = {}
    for first in (5, 50):
        with stack.count_statements() as statements:
            body = await stack.gql(every_field, {"first": first}, token=token)
        assert len(body["data"]["customers"]["edges"]) == first
        counts[first] = len(statements)

    assert counts[5] == counts[50]


@pytest.mark.parametrize(
    ("variables", "field"), [({"after": "%%%"}, ["after"]), ({"first": -1}, ["first"])]
)
async def test_a_bad_cursor_or_page_size_is_a_clear_error(
    stack: Stack, variables: dict, field: list[str]
) -> None:
    body = await stack.gql(CUSTOMERS, variables, token=await stack.token("alpha-officer"))

    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
