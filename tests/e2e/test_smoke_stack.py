from tests.support.stack import Stack


async def test_staff_registers_a_customer_and_sees_it_masked(stack: Stack) -> None:
    payload = await stack.register(
        "alpha-officer", name="王小明", phone="13812345678", id_number="11010519491231002X"
    )

    assert payload["userErrors"] == []
    customer = payload["customer"]
    assert customer["nameMasked"] == "*明"
    assert customer["phoneMasked"] == "138****5678"
    assert customer["idNumberMasked"] == "1****************X"
    assert customer["gender"] == "FEMALE"
    assert customer["institution"] == {"code": "alpha"}
