"""A product's terms as a plain document (JSON-ready, camelCase keys), and back.

Decimals travel as strings so nothing is lost to floats; enums as their values.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from jikuai.domain.credit.model import ClassificationThresholds, Component, RepaymentMethod
from jikuai.domain.credit.products import (
    AdmissionRule,
    ApprovalAuthority,
    LimitPolicy,
    LprTenor,
    Pricing,
    PricingKind,
    ProductTerms,
)
from jikuai.domain.credit.scorecards import Bin, Characteristic, Grade, GradeBand, Scorecard
from jikuai.domain.customers.model import Segment
from jikuai.domain.tenancy.model import Role


def terms_document(terms: ProductTerms) -> dict[str, Any]:
    pricing = terms.pricing
    card = terms.scorecard
    return {
        "name": terms.name,
        "description": terms.description,
        "segments": [each.value for each in terms.segments],
        "minAmount": str(terms.min_amount),
        "maxAmount": str(terms.max_amount),
        "termMonths": list(terms.term_months),
        "methods": [each.value for each in terms.methods],
        "pricing": {
            "kind": pricing.kind.value,
            "lprTenor": pricing.lpr_tenor.value if pricing.lpr_tenor else None,
            "spreadBp": pricing.spread_bp,
            "floorRate": _text(pricing.floor_rate),
            "fixedRate": _text(pricing.fixed_rate),
        },
        "admissionRules": [
            {"name": rule.name, "expression": rule.expression, "reasonCode": rule.reason_code}
            for rule in terms.admission_rules
        ],
        "scorecard": {
            "baseScore": card.base_score,
            "baseOdds": str(card.base_odds),
            "pdo": str(card.pdo),
            "intercept": str(card.intercept),
            "characteristics": [
                {
                    "name": each.name,
                    "variable": each.variable,
                    "defaultPoints": _text(each.default_points),
                    "bins": [
                        {
                            "points": str(bin.points),
                            "lower": _text(bin.lower),
                            "upper": _text(bin.upper),
                            "values": list(bin.values),
                        }
                        for bin in each.bins
                    ],
                }
                for each in card.characteristics
            ],
            "grades": [
                {
                    "minScore": band.min_score,
                    "grade": band.grade.value,
                    "coefficient": str(band.coefficient),
                }
                for band in card.grades
            ],
        },
        "limitPolicy": {
            "baseAmounts": [
                {"segment": segment.value, "amount": str(amount)}
                for segment, amount in terms.limit_policy.base_amounts
            ],
            "maxTotalExposure": str(terms.limit_policy.max_total_exposure),
            "roundingUnit": str(terms.limit_policy.rounding_unit),
            "whitelistBase": terms.limit_policy.whitelist_base,
        },
        "autoApprovalMax": str(terms.auto_approval_max),
        "approvalAuthority": [
            {"role": each.role.value, "maxAmount": str(each.max_amount)}
            for each in terms.approval_authority
        ],
        "maxDrawDays": terms.max_draw_days,
        "creditLineMonths": terms.credit_line_months,
        "daysInYear": terms.days_in_year,
        "penaltyUplift": str(terms.penalty_uplift),
        "graceDays": terms.grace_days,
        "allocationOrder": [each.value for each in terms.allocation_order],
        "offerValidDays": terms.offer_valid_days,
        "classification": {
            "specialMention": terms.classification.special_mention,
            "substandard": terms.classification.substandard,
            "doubtful": terms.classification.doubtful,
            "loss": terms.classification.loss,
        },
    }


def terms_from_document(document: dict[str, Any]) -> ProductTerms:
    pricing = document["pricing"]
    card = document["scorecard"]
    limits = document["limitPolicy"]
    classification = document["classification"]
    return ProductTerms(
        name=document["name"],
        description=document["description"],
        segments=tuple(Segment(each) for each in document["segments"]),
        min_amount=Decimal(document["minAmount"]),
        max_amount=Decimal(document["maxAmount"]),
        term_months=tuple(document["termMonths"]),
        methods=tuple(RepaymentMethod(each) for each in document["methods"]),
        pricing=Pricing(
            kind=PricingKind(pricing["kind"]),
            lpr_tenor=LprTenor(pricing["lprTenor"]) if pricing["lprTenor"] else None,
            spread_bp=pricing["spreadBp"],
            floor_rate=_decimal(pricing["floorRate"]),
            fixed_rate=_decimal(pricing["fixedRate"]),
        ),
        admission_rules=tuple(
            AdmissionRule(rule["name"], rule["expression"], rule["reasonCode"])
            for rule in document["admissionRules"]
        ),
        scorecard=Scorecard(
            base_score=card["baseScore"],
            base_odds=Decimal(card["baseOdds"]),
            pdo=Decimal(card["pdo"]),
            intercept=Decimal(card["intercept"]),
            characteristics=tuple(
                Characteristic(
                    name=each["name"],
                    variable=each["variable"],
                    default_points=_decimal(each["defaultPoints"]),
                    bins=tuple(
                        Bin(
                            points=Decimal(bin["points"]),
                            lower=_decimal(bin["lower"]),
                            upper=_decimal(bin["upper"]),
                            values=tuple(bin["values"]),
                        )
                        for bin in each["bins"]
                    ),
                )
                for each in card["characteristics"]
            ),
            grades=tuple(
                GradeBand(band["minScore"], Grade(band["grade"]), Decimal(band["coefficient"]))
                for band in card["grades"]
            ),
        ),
        limit_policy=LimitPolicy(
            base_amounts=tuple(
                (Segment(each["segment"]), Decimal(each["amount"]))
                for each in limits["baseAmounts"]
            ),
            max_total_exposure=Decimal(limits["maxTotalExposure"]),
            rounding_unit=Decimal(limits["roundingUnit"]),
            whitelist_base=limits["whitelistBase"],
        ),
        auto_approval_max=Decimal(document["autoApprovalMax"]),
        approval_authority=tuple(
            ApprovalAuthority(Role(each["role"]), Decimal(each["maxAmount"]))
            for each in document["approvalAuthority"]
        ),
        max_draw_days=document["maxDrawDays"],
        credit_line_months=document["creditLineMonths"],
        days_in_year=document["daysInYear"],
        penalty_uplift=Decimal(document["penaltyUplift"]),
        grace_days=document["graceDays"],
        allocation_order=tuple(Component(each) for each in document["allocationOrder"]),
        offer_valid_days=document["offerValidDays"],
        classification=ClassificationThresholds(
            special_mention=classification["specialMention"],
            substandard=classification["substandard"],
            doubtful=classification["doubtful"],
            loss=classification["loss"],
        ),
    )


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)
