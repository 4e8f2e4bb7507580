"""A small, safe expression language for the bank-configured decision rules of a loan product.

Admission rules (准入) are text stored in the database, written by product managers and
evaluated for every loan application. Handing that text to Python (`eval`, `exec`, `compile`,
the `ast` module) would give whoever may edit a product the server itself, so the text is read
by a hand-written tokenizer and recursive-descent parser into an immutable tree, and a
tree-walking evaluator computes it with nothing but the operators and functions below.

Grammar, lowest precedence first::

    expression := or_expr END
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := additive [("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not" "in") additive]
    additive   := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := "-" unary | primary
    primary    := NUMBER | STRING | "true" | "false" | "null" | NAME | call | list
                | "(" or_expr ")"
    call       := FUNCTION "(" [or_expr ("," or_expr)*] ")"
    list       := "[" [or_expr ("," or_expr)*] "]"

NUMBER is digits with an optional fraction (`18`, `0.55`); STRING is quoted with `'` or `"` and
has no escapes; NAME is letters, digits and underscores, in segments joined by dots
(`applicant.age`); FUNCTION is one of min, max, abs, between (inclusive at both ends) and len.
Comparisons do not chain: `a < b < c` is an error, not a guess at what was meant.

Values are Decimal numbers (never floats; booleans are not numbers), strings, booleans, null and
lists. Mixing kinds (`1 + 'a'`, `true < 1`) is an error, and so is a missing variable: a rule
that cannot be evaluated must not quietly admit or reject anyone. Only `==`, `!=` and `in`
accept null. `and` and `or` short-circuit, so `x != null and x > 3` is safe.

Hostile text is bounded before any work is done on it: at most 2,000 characters, 500 tokens and
32 levels of nesting (brackets, calls and prefix operators), which keeps the parser's recursion
far from Python's limit. A run of one operator (`a + b + c`, `p and q and r`) is one flat node,
so its length never deepens the tree.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Collection, Mapping
from decimal import ROUND_HALF_EVEN, Context, Decimal, DivisionByZero, InvalidOperation, Overflow
from operator import ge, gt, le, lt
from typing import Any, Protocol, TypeAlias, TypeVar

from jikuai.domain.shared.errors import DomainError, ErrorCode

MAX_SOURCE_LENGTH = 2_000
MAX_TOKENS = 500
MAX_DEPTH = 32

Value: TypeAlias = "Decimal | str | bool | tuple[Value, ...] | None"

_T = TypeVar("_T")

# Python's default arithmetic, fixed here so that a result never depends on the caller's context.
_ARITHMETIC = Context(
    prec=28, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow]
)


class ExpressionError(ValueError):
    """Why an expression cannot be parsed or evaluated, for people; `position` is the 0-based
    character offset in the source it concerns, or None when it concerns no one place."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


@dataclasses.dataclass(frozen=True, slots=True)
class Expression:
    """A parsed expression. Two are equal when their source texts are."""

    source: str
    variables: frozenset[str]
    _root: _Node = dataclasses.field(repr=False, compare=False)

    def evaluate(self, values: Mapping[str, object]) -> object:
        """The value of the expression (a list comes back as a tuple) over `values`, which map
        dotted names to Decimal, int, bool, str, None or lists of those."""
        return self._root.evaluate(values)

    def test(self, values: Mapping[str, object]) -> bool:
        """The expression as a rule: its value, which must be true or false."""
        result = self._root.evaluate(values)
        if not isinstance(result, bool):
            raise ExpressionError(f"a rule must give true or false, not {_kind(result)}")
        return result


def parse_expression(source: str, *, known_variables: Collection[str] | None = None) -> Expression:
    """`source` parsed; with `known_variables`, a name outside them is an error too."""
    if len(source) > MAX_SOURCE_LENGTH:
        raise ExpressionError(f"an expression may be at most {MAX_SOURCE_LENGTH} characters long")
    known = None if known_variables is None else frozenset(known_variables)
    parser = _Parser(_tokenize(source), known)
    root = parser.parse()
    return Expression(source, frozenset(parser.variables), root)


def check_rule(
    source: str, *, known_variables: Collection[str], field: tuple[str, ...]
) -> Expression:
    """`source` as an admission rule, or `DomainError(INVALID_EXPRESSION)` at `field`.

    Besides parsing, a rule must be able to give true or false: `applicant.age + 1` never can,
    and saying so when the product is saved beats refusing every applicant later.
    """
    try:
        expression = parse_expression(source, known_variables=known_variables)
    except ExpressionError as error:
        raise DomainError(ErrorCode.INVALID_EXPRESSION, field=field) from error
    if not _may_give_boolean(expression._root):
        raise DomainError(ErrorCode.INVALID_EXPRESSION, field=field)
    return expression


# Tokens

_KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
    | (?P<number>[0-9]+(?:\.[0-9]+)?)
    | (?P<string>'[^']*'|"[^"]*")
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    | (?P<symbol>==|!=|<=|>=|[<>+\-*/()\[\],])
    """,
    re.VERBOSE,
)


@dataclasses.dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "number", "string", "name", "end", or the keyword or symbol itself
    text: str
    position: int

    def describe(self) -> str:
        return "the end of the expression" if self.kind == "end" else f"'{self.text}'"


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:
            raise _lexical_error(source, position)
        if match.lastgroup != "space":
            if len(tokens) == MAX_TOKENS:
                raise ExpressionError(
                    f"an expression may have at most {MAX_TOKENS} tokens", position
                )
            tokens.append(_token(match))
        position = match.end()
    tokens.append(_Token("end", "", len(source)))
    return tokens


def _token(match: re.Match[str]) -> _Token:
    text, position = match.group(), match.start()
    if match.lastgroup == "name":
        return _name_token(text, position)
    if match.lastgroup in ("number", "string"):
        return _Token(match.lastgroup, text, position)
    return _Token(text, text, position)


def _name_token(text: str, position: int) -> _Token:
    if text in _KEYWORDS:
        return _Token(text, text, position)
    reserved = [segment for segment in text.split(".") if segment in _KEYWORDS]
    if reserved:
        raise ExpressionError(f"'{reserved[0]}' is a reserved word, not part of a name", position)
    return _Token("name", text, position)


def _lexical_error(source: str, position: int) -> ExpressionError:
    character = source[position]
    if character in "'\"":
        return ExpressionError("a string is not closed", position)
    if character == "=":
        return ExpressionError("'=' is not an operator; compare with '=='", position)
    return ExpressionError(f"unexpected character '{character}'", position)


# Syntax tree


class _Node(Protocol):
    def evaluate(self, values: Mapping[str, object]) -> Value: ...


@dataclasses.dataclass(frozen=True, slots=True)
class _Literal:
    value: Value

    def evaluate(self, values: Mapping[str, object]) -> Value:
        return self.value


@dataclasses.dataclass(frozen=True, slots=True)
class _List:
    items: tuple[_Node, ...]

    def evaluate(self, values: Mapping[str, object]) -> Value:
        return tuple(item.evaluate(values) for item in self.items)


@dataclasses.dataclass(frozen=True, slots=True)
class _Variable:
    name: str
    position: int

    def evaluate(self, values: Mapping[str, object]) -> Value:
        if self.name not in values:
            raise ExpressionError(f"no value for '{self.name}'", self.position)
        return _from_input(values[self.name], self.name, self.position)


@dataclasses.dataclass(frozen=True, slots=True)
class _Not:
    operand: _Node
    position: int

    def evaluate(self, values: Mapping[str, object]) -> Value:
        return not _boolean(self.operand.evaluate(values), "not", self.position)


@dataclasses.dataclass(frozen=True, slots=True)
class _Negate:
    operand: _Node
    position: int

    def evaluate(self, values: Mapping[str, object]) -> Value:
        return _ARITHMETIC.minus(_number(self.operand.evaluate(values), "-", self.position))


@dataclasses.dataclass(frozen=True, slots=True)
class _Step:
    """One `operator operand` after the first operand of a run of same-precedence operators."""

    operator: str
    position: int
    operand: _Node


@dataclasses.dataclass(frozen=True, slots=True)
class _Logical:
    """`first and ...` or `first or ...`, stopping at the first operand that decides it."""

    operator: str
    first: _Node
    steps: tuple[_Step, ...]

    def evaluate(self, values: Mapping[str, object]) -> Value:
        decisive = self.operator == "or"
        result = _boolean(self.first.evaluate(values), self.operator, self.steps[0].position)
        for step in self.steps:
            if result is decisive:
                break
            result = _boolean(step.operand.evaluate(values), self.operator, step.position)
        return result


@dataclasses.dataclass(frozen=True, slots=True)
class _Arithmetic:
    """`first (+|-) ...` or `first (*|/) ...`, left to right."""

    first: _Node
    steps: tuple[_Step, ...]

    def evaluate(self, values: Mapping[str, object]) -> Value:
        head = self.steps[0]
        result = _number(self.first.evaluate(values), head.operator, head.position)
        for step in self.steps:
            operand = _number(step.operand.evaluate(values), step.operator, step.position)
            result = _calculate(step.operator, result, operand, step.position)
        return result


@dataclasses.dataclass(frozen=True, slots=True)
class _Comparison:
    operator: str
    left: _Node
    right: _Node
    position: int

    def evaluate(self, values: Mapping[str, object]) -> Value:
        left, right = self.left.evaluate(values), self.right.evaluate(values)
        if self.operator in ("==", "!="):
            return _equal(left, right, self.position) == (self.operator == "==")
        if self.operator in ("in", "not in"):
            return _contains(right, left, self.position) == (self.operator == "in")
        return _order(self.operator, left, right, self.position)


@dataclasses.dataclass(frozen=True, slots=True)
class _Call:
    function: _Function
    arguments: tuple[_Node, ...]
    position: int

    def evaluate(self, values: Mapping[str, object]) -> Value:
        arguments = tuple(argument.evaluate(values) for argument in self.arguments)
        return self.function.apply(arguments, self.position)


def _may_give_boolean(node: _Node) -> bool:
    """False when the node's kind alone shows it can never be true or false."""
    if isinstance(node, _Literal):
        return isinstance(node.value, bool)
    if isinstance(node, _Call):
        return node.function.gives_boolean
    return not isinstance(node, _List | _Arithmetic | _Negate)


# Parser


class _Parser:
    """Recursive descent, one method per grammar rule; `variables` collects the names read."""

    def __init__(self, tokens: list[_Token], known_variables: frozenset[str] | None) -> None:
        self._tokens = tokens
        self._index = 0
        self._depth = 0
        self._known = known_variables
        self.variables: set[str] = set()

    def parse(self) -> _Node:
        node = self._or()
        token = self._peek()
        if token.kind != "end":
            raise ExpressionError(f"unexpected {token.describe()}", token.position)
        return node

    def _or(self) -> _Node:
        return self._logical("or", self._and)

    def _and(self) -> _Node:
        return self._logical("and", self._not)

    def _logical(self, operator: str, operand: Callable[[], _Node]) -> _Node:
        first, steps = self._run((operator,), operand)
        return _Logical(operator, first, steps) if steps else first

    def _not(self) -> _Node:
        token = self._peek()
        if token.kind != "not":
            return self._comparison()
        self._advance()
        return _Not(self._nested(token, self._not), token.position)

    def _comparison(self) -> _Node:
        left = self._additive()
        operator = self._comparison_operator()
        if operator is None:
            return left
        node = _Comparison(operator.kind, left, self._additive(), operator.position)
        chained = self._comparison_operator()
        if chained is not None:
            raise ExpressionError(
                "comparisons do not chain; join them with 'and'", chained.position
            )
        return node

    def _comparison_operator(self) -> _Token | None:
        token = self._peek()
        if token.kind in ("==", "!=", "<", "<=", ">", ">=", "in"):
            return self._advance()
        if token.kind == "not" and self._tokens[self._index + 1].kind == "in":
            self._index += 2
            return _Token("not in", "not in", token.position)
        return None

    def _additive(self) -> _Node:
        first, steps = self._run(("+", "-"), self._term)
        return _Arithmetic(first, steps) if steps else first

    def _term(self) -> _Node:
        first, steps = self._run(("*", "/"), self._unary)
        return _Arithmetic(first, steps) if steps else first

    def _run(
        self, operators: tuple[str, ...], operand: Callable[[], _Node]
    ) -> tuple[_Node, tuple[_Step, ...]]:
        first = operand()
        steps = []
        while self._peek().kind in operators:
            token = self._advance()
            steps.append(_Step(token.kind, token.position, operand()))
        return first, tuple(steps)

    def _unary(self) -> _Node:
        token = self._peek()
        if token.kind != "-":
            return self._primary()
        self._advance()
        return _Negate(self._nested(token, self._unary), token.position)

    def _primary(self) -> _Node:
        token = self._advance()
        match token.kind:
            case "number":
                return _Literal(Decimal(token.text))
            case "string":
                return _Literal(token.text[1:-1])
            case "true" | "false":
                return _Literal(token.kind == "true")
            case "null":
                return _Literal(None)
            case "name":
                return self._call(token) if self._peek().kind == "(" else self._variable(token)
            case "(":
                return self._nested(token, self._parenthesized)
            case "[":
                return _List(self._nested(token, lambda: self._items("]")))
        raise ExpressionError(f"expected a value, found {token.describe()}", token.position)

    def _parenthesized(self) -> _Node:
        node = self._or()
        self._expect(")")
        return node

    def _items(self, closing: str) -> tuple[_Node, ...]:
        if self._peek().kind == closing:
            self._advance()
            return ()
        items = [self._or()]
        while self._peek().kind == ",":
            self._advance()
            items.append(self._or())
        self._expect(closing)
        return tuple(items)

    def _call(self, name: _Token) -> _Node:
        function = _FUNCTIONS.get(name.text)
        if function is None:
            raise ExpressionError(f"unknown function '{name.text}'", name.position)
        self._advance()
        arguments = self._nested(name, lambda: self._items(")"))
        if not function.accepts(len(arguments)):
            raise ExpressionError(function.arity_message(), name.position)
        return _Call(function, arguments, name.position)

    def _variable(self, token: _Token) -> _Node:
        if self._known is not None and token.text not in self._known:
            raise ExpressionError(f"unknown variable '{token.text}'", token.position)
        self.variables.add(token.text)
        return _Variable(token.text, token.position)

    def _nested(self, opening: _Token, parse: Callable[[], _T]) -> _T:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise ExpressionError(
                f"an expression may nest at most {MAX_DEPTH} levels deep", opening.position
            )
        result = parse()
        self._depth -= 1
        return result

    def _peek(self) -> _Token:
        return self._tokens[self._index]

    def _advance(self) -> _Token:
        token = self._tokens[self._index]
        if token.kind != "end":
            self._index += 1
        return token

    def _expect(self, kind: str) -> None:
        token = self._advance()
        if token.kind != kind:
            raise ExpressionError(f"expected '{kind}', found {token.describe()}", token.position)


# Evaluation


def _from_input(value: object, name: str, position: int) -> Value:
    """A caller's value in the language's terms: an int becomes a Decimal, a bool stays a bool."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal) and value.is_finite():
        return value
    if isinstance(value, list | tuple):
        return tuple(_from_input(item, name, position) for item in value)
    raise ExpressionError(
        f"'{name}' holds a value of unusable type {type(value).__name__}", position
    )


def _kind(value: Value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, Decimal):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list"


def _boolean(value: Value, operator: str, position: int) -> bool:
    if isinstance(value, bool):
        return value
    raise ExpressionError(f"'{operator}' needs true or false, not {_kind(value)}", position)


def _number(value: Value, operator: str, position: int) -> Decimal:
    if isinstance(value, Decimal):
        return value
    raise ExpressionError(f"'{operator}' needs a number, not {_kind(value)}", position)


_OPERATIONS: dict[str, Callable[[Decimal, Decimal], Decimal]] = {
    "+": _ARITHMETIC.add,
    "-": _ARITHMETIC.subtract,
    "*": _ARITHMETIC.multiply,
    "/": _ARITHMETIC.divide,
}


def _calculate(operator: str, left: Decimal, right: Decimal, position: int) -> Decimal:
    if operator == "/" and right == 0:
        raise ExpressionError("division by zero", position)
    try:
        return _OPERATIONS[operator](left, right)
    except ArithmeticError:
        raise ExpressionError("the result is too large", position) from None


def _equal(left: Value, right: Value, position: int) -> bool:
    """Equality within one kind; null equals only null, and any kind may be compared with it."""
    if left is None or right is None:
        return left is right
    if _kind(left) != _kind(right):
        raise ExpressionError(f"cannot compare {_kind(left)} with {_kind(right)}", position)
    if isinstance(left, tuple) and isinstance(right, tuple):
        return len(left) == len(right) and all(
            _equal(mine, theirs, position) for mine, theirs in zip(left, right, strict=True)
        )
    return left == right


def _contains(container: Value, item: Value, position: int) -> bool:
    if not isinstance(container, tuple):
        raise ExpressionError(f"'in' needs a list on its right, not {_kind(container)}", position)
    return any(_equal(item, element, position) for element in container)


_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {"<": lt, "<=": le, ">": gt, ">=": ge}


def _order(operator: str, left: Value, right: Value, position: int) -> bool:
    """Numbers with numbers, strings with strings; nothing else has an order."""
    kind = _kind(left)
    if kind not in ("a number", "a string") or kind != _kind(right):
        raise ExpressionError(f"cannot order {kind} against {_kind(right)}", position)
    return _ORDERINGS[operator](left, right)


# Functions


@dataclasses.dataclass(frozen=True, slots=True)
class _Function:
    name: str
    minimum: int  # arguments
    maximum: int | None
    gives_boolean: bool
    apply: Callable[[tuple[Value, ...], int], Value]

    def accepts(self, count: int) -> bool:
        return count >= self.minimum and (self.maximum is None or count <= self.maximum)

    def arity_message(self) -> str:
        count = str(self.minimum) if self.maximum == self.minimum else f"at least {self.minimum}"
        plural = "" if self.minimum == 1 else "s"
        return f"{self.name}() takes {count} argument{plural}"


def _numbers(function: str, arguments: tuple[Value, ...], position: int) -> list[Decimal]:
    return [_number(argument, f"{function}()", position) for argument in arguments]


def _min(arguments: tuple[Value, ...], position: int) -> Value:
    return min(_numbers("min", arguments, position))


def _max(arguments: tuple[Value, ...], position: int) -> Value:
    return max(_numbers("max", arguments, position))


def _abs(arguments: tuple[Value, ...], position: int) -> Value:
    (number,) = _numbers("abs", arguments, position)
    return _ARITHMETIC.abs(number)


def _between(arguments: tuple[Value, ...], position: int) -> Value:
    number, low, high = _numbers("between", arguments, position)
    return low <= number <= high


def _len(arguments: tuple[Value, ...], position: int) -> Value:
    (items,) = arguments
    if not isinstance(items, tuple):
        raise ExpressionError(f"'len()' needs a list, not {_kind(items)}", position)
    return Decimal(len(items))


_FUNCTIONS = {
    function.name: function
    for function in (
        _Function("min", 1, None, False, _min),
        _Function("max", 1, None, False, _max),
        _Function("abs", 1, 1, False, _abs),
        _Function("between", 3, 3, True, _between),
        _Function("len", 1, 1, False, _len),
    )
}
