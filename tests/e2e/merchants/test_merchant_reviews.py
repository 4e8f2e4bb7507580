"""approveMerchant, rejectMerchant, suspendMerchant: the review workflow, its roles and its audit
trail."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from jikuai.persistence.tables.identity import audit_events
from tests.support.credit import customer_token, error_codes, local_uuid
from tests.support.merchants import APPROVE, REJECT, SUSPEND, apply, review
from tests.support.stack import Stack


async def _pending(stack: Stack, username: str = "alpha-officer") -> str:
    payload = await apply(stack, await stack.token(username))
    assert payload["userErrors"] == [], payload
    merchant_id: str = payload["merchant"]["id"]
    return merchant_id


async def _audit(stack: Stack, merchant_id: str) -> list[dict[str, Any]]:
    async with stack.services.database.primary.connect() as connection:
        rows = await connection.execute(
            select(audit_events)
            .where(audit_events.c.subject_id == local_uuid(merchant_id))
            .order_by(audit_events.c.id)
        )
        return [dict(row._mapping) for row in rows]


async def test_a_branch_manager_approves_with_a_reason_audited(stack: Stack) -> None:
    merchant_id = await _pending(stack)

    payload = await review(stack, APPROVE, merchant_id, username="alpha-manager", reason="资料齐全")

    assert payload["userErrors"] == []
    merchant = payload["merchant"]
    assert merchant["status"] == "APPROVED"
    assert merchant["statusReason"] == "资料齐全"
    assert merchant["reviewedAt"] is not None
    assert merchant["onboardedBy"] == {"username": "alpha-officer"}
    [event] = await _audit(stack, merchant_id)
    assert event["action"] == "merchant.approve"
    assert event["subject_type"] == "merchant"
    assert event["actor_id"] == stack.world.staff["alpha-manager"].id
    assert event["institution_id"] == stack.world.institutions["alpha"].id
    assert event["details"] == {"reason": "资料齐全", "from": "PENDING"}


async def test_a_self_applied_merchant_is_credited_to_the_staff_member_who_approves_it(
    stack: Stack,
) -> None:
    token, _ = await customer_token(stack)
    applied = await apply(stack, token)
    merchant_id = applied["merchant"]["id"]

    payload = await review(stack, APPROVE, merchant_id, username="alpha-admin")

    assert payload["merchant"]["onboardedBy"] == {"username": "alpha-admin"}


async def test_suspending_and_reinstating_are_audited_in_order(stack: Stack) -> None:
    merchant_id = await _pending(stack)
    await review(stack, APPROVE, merchant_id, username="alpha-manager")

    suspended = await review(stack, SUSPEND, merchant_id, username="alpha-admin", reason="投诉")
    reinstated = await review(stack, APPROVE, merchant_id, username="alpha-manager", reason="整改")

    assert suspended["merchant"]["status"] == "SUSPENDED"
    assert suspended["merchant"]["statusReason"] == "投诉"
    assert reinstated["merchant"]["status"] == "APPROVED"
    assert reinstated["merchant"]["onboardedBy"] == {"username": "alpha-officer"}
    assert [event["action"] for event in await _audit(stack, merchant_id)] == [
        "merchant.approve",
        "merchant.suspend",
        "merchant.approve",
    ]


async def test_a_rejection_is_final(stack: Stack) -> None:
    merchant_id = await _pending(stack)

    rejected = await review(stack, REJECT, merchant_id, username="alpha-manager", reason="资质不符")
    approved = await review(stack, APPROVE, merchant_id, username="alpha-manager")

    assert rejected["merchant"]["status"] == "REJECTED"
    assert rejected["merchant"]["onboardedBy"] == {"username": "alpha-officer"}
    assert approved == {"merchant": None, "userErrors": [{"field": None, "code": "INVALID_STATE"}]}
    assert [event["action"] for event in await _audit(stack, merchant_id)] == ["merchant.reject"]


@pytest.mark.parametrize(
    ("steps", "refused"),
    [
        ([], SUSPEND),  # a pending merchant cannot be suspended
        ([APPROVE], APPROVE),  # nor an approved one approved again
        ([APPROVE], REJECT),  # nor rejected once approved
        ([APPROVE, SUSPEND], SUSPEND),
        ([APPROVE, SUSPEND], REJECT),
    ],
)
async def test_a_transition_the_workflow_does_not_allow_is_invalid_state(
    stack: Stack, steps: list[str], refused: str
) -> None:
    merchant_id = await _pending(stack)
    for step in steps:
        assert (await review(stack, step, merchant_id, username="alpha-manager"))[
            "userErrors"
        ] == []

    payload = await review(stack, refused, merchant_id, username="alpha-manager")

    assert payload["userErrors"] == [{"field": None, "code": "INVALID_STATE"}]


@pytest.mark.parametrize("reason", ["", "   "])
async def test_a_reason_is_required(stack: Stack, reason: str) -> None:
    merchant_id = await _pending(stack)

    payload = await review(stack, APPROVE, merchant_id, username="alpha-manager", reason=reason)

    assert payload["userErrors"] == [{"field": ["reason"], "code": "REQUIRED"}]
    assert await _audit(stack, merchant_id) == []


async def test_a_reason_longer_than_200_characters_is_refused(stack: Stack) -> None:
    merchant_id = await _pending(stack)

    payload = await review(stack, APPROVE, merchant_id, username="alpha-manager", reason="长" * 201)

    assert payload["userErrors"] == [{"field": ["reason"], "code": "INVALID_LENGTH"}]


async def test_another_institutions_merchant_is_not_found(stack: Stack) -> None:
    merchant_id = await _pending(stack, "beta-officer")

    payload = await review(stack, APPROVE, merchant_id, username="alpha-manager")

    assert payload == {
        "merchant": None,
        "userErrors": [{"field": ["merchantId"], "code": "NOT_FOUND"}],
    }
    assert await _audit(stack, merchant_id) == []


@pytest.mark.parametrize("merchant_id", ["nonsense", "TWVyY2hhbnQ6MQ=="])
async def test_a_malformed_id_is_not_found(stack: Stack, merchant_id: str) -> None:
    payload = await review(stack, APPROVE, merchant_id, username="alpha-manager")

    assert payload["userErrors"] == [{"field": ["merchantId"], "code": "NOT_FOUND"}]


async def test_the_province_admin_reviews_any_institutions_merchant(stack: Stack) -> None:
    merchant_id = await _pending(stack, "beta-officer")

    payload = await review(stack, APPROVE, merchant_id, username="prov-admin")

    assert payload["merchant"]["status"] == "APPROVED"
    [event] = await _audit(stack, merchant_id)
    assert event["institution_id"] == stack.world.institutions["beta"].id


@pytest.mark.parametrize("username", ["alpha-officer", "alpha-risk"])
async def test_roles_that_do_not_review_are_forbidden(stack: Stack, username: str) -> None:
    merchant_id = await _pending(stack)

    body = await stack.gql(
        APPROVE,
        {"input": {"merchantId": merchant_id, "reason": "ok"}},
        token=await stack.token(username),
    )

    assert error_codes(body) == ["FORBIDDEN"]
    assert await _audit(stack, merchant_id) == []


async def test_a_customer_may_not_review(stack: Stack) -> None:
    token, _ = await customer_token(stack)
    merchant_id = await _pending(stack)

    body = await stack.gql(
        APPROVE, {"input": {"merchantId": merchant_id, "reason": "ok"}}, token=token
    )

    assert error_codes(body) == ["FORBIDDEN"]
