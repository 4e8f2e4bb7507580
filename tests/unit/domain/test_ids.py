import uuid

from jikuai.domain.shared.ids import new_id


def test_ids_are_version_7_and_sort_in_the_order_they_were_made() -> None:
    made = [new_id() for _ in range(20_000)]  # many share a millisecond
    assert all(each.version == 7 and each.variant == uuid.RFC_4122 for each in made)
    assert made == sorted(made)
    assert len(set(made)) == len(made)
