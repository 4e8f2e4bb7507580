"""The GraphQL schema: strawberry types per bounded context, merged in `schema.build`."""
