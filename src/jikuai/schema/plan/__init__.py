"""Compiled execution plans for known operations.

graphql-core runs every field of every object through a generic machine: build an info
object, look up the resolver, coerce arguments, complete the value by inspecting its type. A
validated operation always takes the same path through the schema, so that work can be done
once: `compile_operation` turns an operation into a `Plan` of selection sets, each field
already knowing how to read its value (an attribute, a resolver, or one batch load for all
parents of a level) and how to complete it. `Plan.execute` then answers exactly as
graphql-core would: the same data, the same errors at the same paths, nulls propagated to the
nearest nullable parent.

What a plan does not cover (directives, abstract types, introspection, subscriptions) is
refused at compile time with `Unsupported`, and the operation runs through graphql-core.
"""

from jikuai.schema.plan.batch import batched
from jikuai.schema.plan.compile import Unsupported, compile_operation
from jikuai.schema.plan.run import Plan

__all__ = ["Plan", "Unsupported", "batched", "compile_operation"]
