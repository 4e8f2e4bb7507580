"""Display masking: what a sensitive value looks like whenever it is shown.

Responses carry masked values by default; the plaintext leaves the server only sealed to the
reader's own key. The rules follow common Chinese banking practice (JR/T 0171 category C2
data): ID number first 1 + last 1, mobile number first 3 + last 4, bank card first 6 +
last 4, a name ``*`` + its last character. Every hidden character becomes ``*`` and the
length is kept, except for names, whose length is hidden too.

A value too short for its rule shows less, never more, and every mask hides at least one
character. Masking works on characters as given; it neither validates nor normalises.
"""


def _mask(value: str, *, head: int, tail: int) -> str:
    return value[:head] + "*" * (len(value) - head - tail) + value[-tail:]


def mask_id_number(value: str) -> str:
    """``11010519491231002X`` → ``1****************X``; under 3 characters, all stars."""
    if len(value) < 3:
        return "*" * len(value)
    return _mask(value, head=1, tail=1)


def mask_phone(value: str) -> str:
    """``13812345678`` → ``138****5678``; under 8 characters, the last 2 at most."""
    if len(value) >= 8:
        return _mask(value, head=3, tail=4)
    if len(value) >= 3:
        return _mask(value, head=0, tail=2)
    return "*" * len(value)


def mask_name(value: str) -> str:
    """``王明`` → ``*明``; a one-character name is ``*`` (it would show the whole name)."""
    if len(value) < 2:
        return "*"
    return "*" + value[-1]


def mask_bank_card(value: str) -> str:
    """``6222021234567890123`` → ``622202*********0123``; short numbers show the last 4 only."""
    if len(value) >= 11:
        return _mask(value, head=6, tail=4)
    if len(value) >= 5:
        return _mask(value, head=0, tail=4)
    return "*" * len(value)
