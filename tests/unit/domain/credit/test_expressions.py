"""The expression language of admission rules: syntax, semantics, errors and limits."""

from __future__ import annotations

import contextlib
from decimal import Context, Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jikuai.domain.credit.expressions import (
    MAX_DEPTH,
    MAX_SOURCE_LENGTH,
    MAX_TOKENS,
    Expression,
    ExpressionError,
    check_rule,
    parse_expression,
)
from jikuai.domain.shared.errors import DomainError, ErrorCode

Tree = Decimal | tuple[str, "Tree", "Tree"]

KNOWN = frozenset(
    {
        "applicant.age",
        "applicant.segment",
        "applicant.blacklisted",
        "applicant.whitelisted",
        "applicant.overdue_months_24",
        "applicant.max_consecutive_overdue_24",
        "applicant.debt_to_income",
        "application.amount",
    }
)
APPLICANT: dict[str, object] = {
    "applicant.age": 35,
    "applicant.segment": "FARMER",
    "applicant.blacklisted": False,
    "applicant.whitelisted": True,
    "applicant.overdue_months_24": 2,
    "applicant.max_consecutive_overdue_24": 1,
    "applicant.debt_to_income": Decimal("0.4200"),
    "application.amount": Decimal("50000.00"),
}


def evaluate(source: str, values: dict[str, object] | None = None) -> object:
    return parse_expression(source).evaluate(values or {})


def error_of(source: str, values: dict[str, object] | None = None) -> ExpressionError:
    """The error parsing or evaluating `source` raises."""
    with pytest.raises(ExpressionError) as raised:
        evaluate(source, values)
    return raised.value


# Literals and variables


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("18", Decimal(18)),
        ("0.5", Decimal("0.5")),
        ("100000.00", Decimal("100000.00")),
        ("'FARMER'", "FARMER"),
        ('"it\'s"', "it's"),
        ("''", ""),
        ("true", True),
        ("false", False),
        ("null", None),
        ("[]", ()),
        ("[1, 2]", (Decimal(1), Decimal(2))),
        ("['FARMER', 'TEACHER']", ("FARMER", "TEACHER")),
        ("[[1], null]", ((Decimal(1),), None)),
    ],
)
def test_literals(source: str, value: object) -> None:
    assert evaluate(source) == value


def test_a_number_is_exact_and_keeps_its_scale() -> None:
    result = evaluate("100000.00")

    assert isinstance(result, Decimal)
    assert str(result) == "100000.00"


def test_variables_are_the_dotted_names_read() -> None:
    expression = parse_expression("applicant.age >= 18 and (x or applicant.age < 70)")

    assert expression.variables == frozenset({"applicant.age", "x"})
    assert parse_expression("1 + 1").variables == frozenset()


def test_ints_become_decimals_and_bools_stay_booleans() -> None:
    values: dict[str, object] = {"a.n": 30, "a.flag": True}

    assert evaluate("a.n + 1", values) == Decimal(31)
    assert isinstance(evaluate("a.n", values), Decimal)
    assert evaluate("a.flag", values) is True
    assert error_of("a.flag + 1", values).message == "'+' needs a number, not a boolean"


def test_list_values_are_read_as_lists() -> None:
    values: dict[str, object] = {"tags": ["A", "B"], "ids": (1, 2)}

    assert evaluate("'B' in tags and len(ids) == 2", values) is True


def test_a_missing_variable_is_an_error_at_its_position() -> None:
    error = error_of("1 < applicant.age", {})

    assert error.position == 4
    assert "applicant.age" in error.message


@pytest.mark.parametrize("value", [1.5, Decimal("NaN"), Decimal("Infinity"), object(), [1.5]])
def test_a_value_of_an_unusable_type_is_an_error(value: object) -> None:
    assert error_of("x == 1", {"x": value}).position == 0


# Precedence and associativity


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("1 + 2 * 3", Decimal(7)),
        ("(1 + 2) * 3", Decimal(9)),
        ("10 - 4 - 3", Decimal(3)),
        ("8 / 4 / 2", Decimal(1)),
        ("2 * 3 - 4 / 2", Decimal(4)),
        ("-2 * 3", Decimal(-6)),
        ("- -2", Decimal(2)),
        ("2 - -2", Decimal(4)),
        ("-(2 - 5)", Decimal(3)),
        ("1 + 2 == 3", True),
        ("1 + 1 > 1 * 1", True),
        ("not 1 == 2", True),
        ("true or false and false", True),
        ("false and false or true", True),
        ("not true or true", True),
        ("not false and false", False),
        ("not not true", True),
        ("(true or false) and false", False),
        ("1 in [1] and 2 not in [1]", True),
    ],
)
def test_precedence_and_associativity(source: str, value: object) -> None:
    assert evaluate(source) == value


# Operators


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("0.1 + 0.2 == 0.3", True),
        ("7 - 10", Decimal(-3)),
        ("1.5 * 2", Decimal("3.0")),
        ("1 / 4", Decimal("0.25")),
        ("1 / 3", Decimal("0.3333333333333333333333333333")),
        ("2 == 2.00", True),
        ("2 != 3", True),
        ("1 < 2", True),
        ("2 <= 2", True),
        ("2 > 2", False),
        ("2 >= 2", True),
        ("'a' < 'b'", True),
        ("'FARMER' == 'FARMER'", True),
        ("'FARMER' != 'farmer'", True),
        ("true == true", True),
        ("true != false", True),
        ("[1, 2] == [1, 2.0]", True),
        ("[1, 2] == [1]", False),
        ("null == null", True),
        ("1 == null", False),
        ("'a' != null", True),
        ("2 in [1, 2, 3]", True),
        ("4 not in [1, 2, 3]", True),
        ("null in [1, null]", True),
        ("'A' in []", False),
        ("[1] in [[1], [2]]", True),
        ("not false", True),
        ("true and true", True),
        ("true and false", False),
        ("false or true", True),
        ("false or false", False),
    ],
)
def test_operators(source: str, value: object) -> None:
    assert evaluate(source) == value


@pytest.mark.parametrize(
    ("source", "position"),
    [
        ("1 + 'a'", 2),
        ("'a' - 'b'", 4),
        ("true * 2", 5),
        ("-'a'", 0),
        ("1 == 'a'", 2),
        ("true != 1", 5),
        ("'a' < 1", 4),
        ("true < false", 5),
        ("null < 1", 5),
        ("[1] <= [2]", 4),
        ("1 in 'abc'", 2),
        ("1 in ['a']", 2),
        ("not 1", 0),
        ("1 and true", 2),
        ("true and 1", 5),
        ("false or 'yes'", 6),
    ],
)
def test_mismatched_kinds_are_errors(source: str, position: int) -> None:
    assert error_of(source).position == position


@pytest.mark.parametrize(("source", "position"), [("1 / 0", 2), ("1 + 2 / (3 - 3)", 6)])
def test_division_by_zero_is_an_error(source: str, position: int) -> None:
    error = error_of(source)

    assert error.position == position
    assert error.message == "division by zero"


def test_a_result_too_large_for_decimal_is_an_error() -> None:
    assert error_of("x * 10", {"x": Decimal("9e999999")}).position == 2


def test_and_and_or_short_circuit() -> None:
    assert evaluate("false and x.missing") is False
    assert evaluate("true or x.missing") is True
    assert evaluate("false and true and x.missing") is False
    assert error_of("true and x.missing").position == 9


def test_a_null_check_guards_a_comparison() -> None:
    rule = parse_expression("x != null and x > 3")

    assert rule.test({"x": None}) is False
    assert rule.test({"x": 4}) is True


# Functions


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("min(3, 1, 2)", Decimal(1)),
        ("min(5)", Decimal(5)),
        ("max(3, 1, 2)", Decimal(3)),
        ("abs(-2.5)", Decimal("2.5")),
        ("abs(2)", Decimal(2)),
        ("between(18, 18, 65)", True),
        ("between(65, 18, 65)", True),
        ("between(17.99, 18, 65)", False),
        ("between(65.01, 18, 65)", False),
        ("len([1, 2, 3])", Decimal(3)),
        ("len([])", Decimal(0)),
        ("min(100000, 2 * 30000) + max(-1, abs(-3))", Decimal(60003)),
    ],
)
def test_functions(source: str, value: object) -> None:
    assert evaluate(source) == value


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("min('a', 1)", "'min()' needs a number, not a string"),
        ("abs(true)", "'abs()' needs a number, not a boolean"),
        ("between(null, 1, 2)", "'between()' needs a number, not null"),
        ("len(3)", "'len()' needs a list, not a number"),
    ],
)
def test_functions_check_their_arguments(source: str, message: str) -> None:
    error = error_of(source)

    assert error.message == message
    assert error.position == 0


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("min()", "min() takes at least 1 argument"),
        ("abs(1, 2)", "abs() takes 1 argument"),
        ("between(1, 2)", "between() takes 3 arguments"),
        ("len()", "len() takes 1 argument"),
    ],
)
def test_a_wrong_number_of_arguments_is_a_syntax_error(source: str, message: str) -> None:
    with pytest.raises(ExpressionError) as raised:
        parse_expression(f"1 == {source}")

    assert raised.value.message == message
    assert raised.value.position == 5


# Syntax errors


@pytest.mark.parametrize(
    ("source", "position"),
    [
        ("", 0),
        ("   ", 3),
        ("1 +", 3),
        ("(1 + 2", 6),
        ("1 2", 2),
        ("1 == 2 == 3", 7),
        ("1 < 2 < 3", 6),
        ("'abc", 0),
        ('"abc', 0),
        ("a = 1", 2),
        ("1 # 2", 2),
        ("1 ! 2", 2),
        ("[1, 2", 5),
        ("[1, 2,]", 6),
        ("min(1,)", 6),
        ("applicant.", 9),
        ("1.5.2", 3),
        (".5", 0),
        ("not in [1]", 4),
        ("and", 0),
        ("x.and.y", 0),
        ("true.x", 0),
        ("（1）", 0),
        ("frobnicate(1)", 0),
        ("os.system('ls')", 0),
        ("__import__('os')", 0),
    ],
)
def test_syntax_errors_have_positions(source: str, position: int) -> None:
    with pytest.raises(ExpressionError) as raised:
        parse_expression(source)

    assert raised.value.position == position


def test_an_unknown_function_is_named() -> None:
    with pytest.raises(ExpressionError, match="unknown function 'eval'"):
        parse_expression("eval('1')")


def test_unknown_variables_are_refused_when_the_known_ones_are_given() -> None:
    source = "applicant.age > 18 and application.amout < 5"

    with pytest.raises(ExpressionError, match=r"application\.amout") as raised:
        parse_expression(source, known_variables=KNOWN)

    assert raised.value.position == source.index("application.amout")
    assert parse_expression(source).variables == {"applicant.age", "application.amout"}


def test_an_expression_error_is_a_value_error() -> None:
    assert issubclass(ExpressionError, ValueError)


# Limits


def test_the_source_length_is_limited() -> None:
    longest = "1" + " " * (MAX_SOURCE_LENGTH - 1)

    assert evaluate(longest) == Decimal(1)
    with pytest.raises(ExpressionError) as raised:
        parse_expression(longest + " ")
    assert raised.value.position is None


def test_the_number_of_tokens_is_limited() -> None:
    most = "-1" + " + 1" * ((MAX_TOKENS - 2) // 2)

    assert evaluate(most) == Decimal((MAX_TOKENS - 2) // 2 - 1)
    with pytest.raises(ExpressionError) as raised:
        parse_expression(most + " +")
    assert raised.value.position == len(most) + 1


@pytest.mark.parametrize(
    ("opening", "closing"),
    [("(", ")"), ("[", "]"), ("min(", ")"), ("not ", ""), ("-", "")],
)
def test_nesting_is_limited(opening: str, closing: str) -> None:
    deepest = opening * MAX_DEPTH + "0" + closing * MAX_DEPTH
    too_deep = opening * (MAX_DEPTH + 1) + "0" + closing * (MAX_DEPTH + 1)

    parse_expression(deepest)
    with pytest.raises(ExpressionError, match="nest") as raised:
        parse_expression(too_deep)
    assert raised.value.position == len(opening) * MAX_DEPTH


def test_a_long_run_of_one_operator_does_not_count_as_nesting() -> None:
    assert evaluate("true and " * 200 + "true") is True
    assert evaluate(" + ".join(["1"] * 250)) == Decimal(250)


# Rules


@pytest.mark.parametrize(
    ("source", "change", "passes"),
    [
        ("between(applicant.age, 18, 65)", {}, True),
        ("between(applicant.age, 18, 65)", {"applicant.age": 17}, False),
        ("between(applicant.age, 18, 65)", {"applicant.age": 65}, True),
        ("between(applicant.age, 18, 65)", {"applicant.age": 66}, False),
        ("not applicant.blacklisted", {}, True),
        ("not applicant.blacklisted", {"applicant.blacklisted": True}, False),
        ("applicant.segment in ['FARMER', 'TEACHER']", {}, True),
        ("applicant.segment in ['FARMER', 'TEACHER']", {"applicant.segment": "OTHER"}, False),
        ("applicant.segment in ['FARMER', 'TEACHER']", {"applicant.segment": None}, False),
        (
            "applicant.overdue_months_24 < 6 and applicant.max_consecutive_overdue_24 < 3",
            {},
            True,
        ),
        (
            "applicant.overdue_months_24 < 6 and applicant.max_consecutive_overdue_24 < 3",
            {"applicant.max_consecutive_overdue_24": 3},
            False,
        ),
        ("applicant.debt_to_income <= 0.55", {}, True),
        ("applicant.debt_to_income <= 0.55", {"applicant.debt_to_income": Decimal("0.55")}, True),
        (
            "applicant.debt_to_income <= 0.55",
            {"applicant.debt_to_income": Decimal("0.5501")},
            False,
        ),
        ("applicant.whitelisted or application.amount <= 30000", {}, True),
        (
            "applicant.whitelisted or application.amount <= 30000",
            {"applicant.whitelisted": False},
            False,
        ),
    ],
)
def test_admission_rules_over_an_applicant(
    source: str, change: dict[str, object], passes: bool
) -> None:
    rule = parse_expression(source, known_variables=KNOWN)

    assert rule.test({**APPLICANT, **change}) is passes


def test_a_rule_must_give_a_boolean() -> None:
    rule = parse_expression("applicant.age + 1")

    with pytest.raises(ExpressionError, match="true or false"):
        rule.test(APPLICANT)


def test_check_rule_returns_the_parsed_rule() -> None:
    rule = check_rule("applicant.age >= 18", known_variables=KNOWN, field=("rules", "0"))

    assert rule == parse_expression("applicant.age >= 18")
    assert rule.test(APPLICANT) is True


@pytest.mark.parametrize(
    "source",
    [
        "applicant.age >=",
        "applicant.agee >= 18",
        "applicant.age + 1",
        "18",
        "'yes'",
        "null",
        "[true]",
        "-applicant.age",
        "min(applicant.age, 1)",
    ],
)
def test_check_rule_refuses_a_rule_as_a_domain_error(source: str) -> None:
    field = ("terms", "admissionRules", "2", "expression")

    with pytest.raises(DomainError) as raised:
        check_rule(source, known_variables=KNOWN, field=field)

    assert raised.value.code is ErrorCode.INVALID_EXPRESSION
    assert raised.value.field == field


@pytest.mark.parametrize(
    "source", ["applicant.whitelisted", "true", "between(applicant.age, 18, 65)", "(true)"]
)
def test_check_rule_accepts_what_may_give_a_boolean(source: str) -> None:
    check_rule(source, known_variables=KNOWN, field=("rule",))


def test_expressions_are_equal_by_source_and_hashable() -> None:
    one, other = parse_expression("x > 1"), parse_expression("x > 1")

    assert one == other
    assert hash(one) == hash(other)
    assert one != parse_expression("x > 2")
    assert repr(one) == "Expression(source='x > 1', variables=frozenset({'x'}))"
    assert isinstance(one, Expression)


# Properties

FRAGMENTS = (
    *("1", "0.5", "'a'", '"b"', "x", "x.y", "true", "false", "null"),
    *("(", ")", "[", "]", ",", "and", "or", "not", "in"),
    *("==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/"),
    *("min", "max", "abs", "between", "len", "="),
)


@given(st.text(max_size=60))
def test_any_text_parses_or_raises_an_expression_error(source: str) -> None:
    with contextlib.suppress(ExpressionError):
        parse_expression(source)


@given(st.lists(st.sampled_from(FRAGMENTS), max_size=20).map(" ".join))
def test_near_grammatical_text_parses_and_evaluates_or_raises_expression_errors(
    source: str,
) -> None:
    with contextlib.suppress(ExpressionError):
        parse_expression(source).evaluate({"x": Decimal(2), "x.y": ["a", None]})


def numbers() -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=-1_000_000, max_value=1_000_000, places=2)


def trees() -> st.SearchStrategy[Tree]:
    return st.recursive(
        numbers(),
        lambda children: st.tuples(st.sampled_from("+-*/"), children, children),
        max_leaves=12,
    )


def render(tree: Tree) -> str:
    if isinstance(tree, Decimal):
        return format(tree, "f")
    operator, left, right = tree
    return f"({render(left)} {operator} {render(right)})"


def expected(tree: Tree) -> Decimal | None:
    """Python's own Decimal arithmetic at its default precision; None for a division by zero."""
    if isinstance(tree, Decimal):
        return tree
    operator, left_tree, right_tree = tree
    left, right = expected(left_tree), expected(right_tree)
    if left is None or right is None or (operator == "/" and right == 0):
        return None
    with localcontext(Context(prec=28)):
        match operator:
            case "+":
                return left + right
            case "-":
                return left - right
            case "*":
                return left * right
        return left / right


@given(trees())
def test_arithmetic_matches_decimal_arithmetic(tree: Tree) -> None:
    value = expected(tree)
    if value is None:
        with pytest.raises(ExpressionError, match="division by zero"):
            evaluate(render(tree))
    else:
        assert evaluate(render(tree)) == value
