"""Institutions (法人行社), branches (网点), staff and the viewer."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from jikuai.domain.tenancy import model
from jikuai.resolvers import tenancy as resolve
from jikuai.resolvers.context import Context
from jikuai.schema.enums import Role
from jikuai.schema.relay import Node, to_global_id

strawberry.enum(
    model.InstitutionKind, name="InstitutionKind", description="Province union or member bank."
)


@strawberry.type(description="A member institution (法人行社) or the province union (省联社).")
class Institution(Node):
    code: str = strawberry.field(description="Short code, e.g. `yushu`.")
    name: str = strawberry.field(description="Full name, e.g. 榆树农商行.")
    region: str = strawberry.field(description="Where it serves (地区).")
    kind: model.InstitutionKind = strawberry.field(description="Province union or member.")
    _id: strawberry.Private[model.Institution]

    @classmethod
    def of(cls, institution: model.Institution) -> Institution:
        return cls(
            id=to_global_id("Institution", institution.id),
            code=institution.code,
            name=institution.name,
            region=institution.region,
            kind=institution.kind,
            _id=institution,
        )

    @strawberry.field(description="Its branches (网点).")
    async def branches(self, info: Info[Context, None]) -> list[Branch]:
        return [Branch.of(each) for each in await resolve.branches(info.context, self._id.id)]


@strawberry.type(description="A branch (网点) of an institution.")
class Branch(Node):
    code: str = strawberry.field(description="Short code, e.g. `yushu-01`.")
    name: str = strawberry.field(description="Name, e.g. 营业部.")
    _branch: strawberry.Private[model.Branch]

    @classmethod
    def of(cls, branch: model.Branch) -> Branch:
        return cls(
            id=to_global_id("Branch", branch.id), code=branch.code, name=branch.name, _branch=branch
        )

    @strawberry.field(description="The institution it belongs to.")
    async def institution(self, info: Info[Context, None]) -> Institution:
        found = await resolve.institution(info.context, self._branch.institution_id)
        return Institution.of(found)


@strawberry.type(
    description="A member of staff (员工): loan officer, manager, risk officer, admin."
)
class Staff(Node):
    username: str = strawberry.field(description="Sign-in name, e.g. `yushu-officer`.")
    display_name: str = strawberry.field(description="Name shown in the console.")
    role: Role = strawberry.field(description="What they may do (角色).")
    _staff: strawberry.Private[model.Staff]

    @classmethod
    def of(cls, staff: model.Staff) -> Staff:
        return cls(
            id=to_global_id("Staff", staff.id),
            username=staff.username,
            display_name=staff.display_name,
            role=staff.role,
            _staff=staff,
        )

    @strawberry.field(description="Their institution.")
    async def institution(self, info: Info[Context, None]) -> Institution:
        found = await resolve.institution(info.context, self._staff.institution_id)
        return Institution.of(found)

    @strawberry.field(description="Their branch, if they work at one.")
    async def branch(self, info: Info[Context, None]) -> Branch | None:
        if self._staff.branch_id is None:
            return None
        found = await resolve.branch(info.context, self._staff.branch_id)
        return Branch.of(found) if found else None


@strawberry.type
class TenancyQuery:
    @strawberry.field(description="Every institution with its branches (public, for registration).")
    async def institutions(self, info: Info[Context, None]) -> list[Institution]:
        return [Institution.of(each) for each in await resolve.institutions(info.context)]
