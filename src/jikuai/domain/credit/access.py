"""Which staff roles may do what in retail credit (customers act only on their own records)."""

from __future__ import annotations

from jikuai.domain.tenancy.model import Role

PRODUCT_ADMINS = frozenset({Role.INSTITUTION_ADMIN})
LPR_KEEPERS = frozenset({Role.PROVINCE_ADMIN})
LIST_KEEPERS = frozenset({Role.INSTITUTION_ADMIN, Role.RISK_OFFICER})
CREDIT_STAFF = frozenset(
    {Role.LOAN_OFFICER, Role.BRANCH_MANAGER, Role.RISK_OFFICER, Role.INSTITUTION_ADMIN}
)
APPLYING_STAFF = frozenset({Role.LOAN_OFFICER, Role.BRANCH_MANAGER})
DISBURSING_STAFF = frozenset({Role.LOAN_OFFICER, Role.BRANCH_MANAGER})
REPAYMENT_STAFF = frozenset({Role.LOAN_OFFICER, Role.BRANCH_MANAGER})
CLASSIFYING_STAFF = frozenset({Role.RISK_OFFICER})
