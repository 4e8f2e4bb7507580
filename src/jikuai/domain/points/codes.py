"""One-time redemption codes (核销码): what the customer's app shows and the merchant app scans.

Eighteen digits, like the payment codes a cashier's scanner already reads, but under a prefix of
our own: WeChat Pay's codes start 10–15, Alipay's 25–30 and UnionPay's 62, ours 88, so a scanner
can route a code without asking anyone. Fifteen random digits follow (10**15 codes, against a
few thousand live at once), and a Luhn check digit catches a misread before any lookup.
"""

from __future__ import annotations

import secrets

PREFIX = "88"
LENGTH = 18
_RANDOM_DIGITS = LENGTH - len(PREFIX) - 1


def new_code() -> str:
    body = PREFIX + f"{secrets.randbelow(10**_RANDOM_DIGITS):0{_RANDOM_DIGITS}d}"
    return body + luhn_digit(body)


def is_well_formed(code: str) -> bool:
    """Ours by shape: 18 ASCII digits, our prefix, a correct check digit."""
    return (
        len(code) == LENGTH
        and code.isascii()
        and code.isdigit()
        and code.startswith(PREFIX)
        and luhn_digit(code[:-1]) == code[-1]
    )


def luhn_digit(digits: str) -> str:
    """The Luhn check digit to append to `digits`."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:  # every second digit from the right, the check digit's neighbour
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return str(-total % 10)
