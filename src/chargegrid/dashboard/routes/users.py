"""/users: who may sign in, and with which role (admins only).

Changes go through the users service, as ``/api/v1/users`` does: the last enabled admin
can be neither demoted, disabled nor deleted.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from chargegrid.dashboard.access import Dashboard, DashboardDep, SessionDep, require
from chargegrid.dashboard.forms import Form, form_of, read_form
from chargegrid.dashboard.listing import ListState, PageInfo, Paging
from chargegrid.dashboard.pages import DashboardRoute, page
from chargegrid.domain import user_passwords
from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.services import users
from chargegrid.domain.services.access import Role
from chargegrid.storage.repositories import users as users_repo

router = APIRouter(
    route_class=DashboardRoute, include_in_schema=False, dependencies=[require(Role.ADMIN)]
)

ROLES = tuple(role.value for role in Role)
NOTICES = {
    "created": "The user was added: they can sign in now.",
    "role": "The role was changed; it applies from their next page.",
    "disabled": "The user was disabled and signed out.",
    "enabled": "The user was enabled.",
    "deleted": "The user was deleted.",
}


async def _list(
    request: Request,
    dashboard: Dashboard,
    *,
    form: Form | None = None,
    row_errors: dict[int, str] | None = None,
    status: int = 200,
) -> Response:
    params = dict(request.query_params)
    state = ListState(
        path="/users", filters=(), sort="id", descending=False, paging=Paging.of(params)
    )
    async with dashboard.platform.db.connect() as conn:
        found = await users_repo.list_page(
            conn, limit=state.paging.size, offset=state.paging.offset
        )
    return page(
        request,
        "users/page.html",
        status=status,
        section="/users",
        rows=found.items,
        info=PageInfo(state.paging.number, state.paging.size, found.total, len(found.items)),
        state=state,
        roles=ROLES,
        form=form or form_of({"role": Role.VIEWER.value}),
        row_errors=row_errors or {},
        notice=NOTICES.get(params.get("notice", "")),
    )


def _done(notice: str) -> Response:
    return RedirectResponse(f"/users?notice={notice}", status_code=303)


@router.get("/users")
async def users_list(request: Request, session: SessionDep, dashboard: DashboardDep) -> Response:
    return await _list(request, dashboard)


@router.post("/users")
async def create_user(request: Request, session: SessionDep, dashboard: DashboardDep) -> Response:
    form = await read_form(request)
    email = form.text("email", "The e-mail", max_length=users.MAX_EMAIL_LENGTH, required=True)
    if email is not None:
        try:
            email = users.normalize_email(email)
        except DomainError:
            form.problem("email", "This is not an e-mail address.")
    name = form.text("name", "The name", max_length=users.MAX_NAME_LENGTH)
    password = form.get("password")
    try:
        user_passwords.check_password_rules(password)
    except ValueError:
        form.problem(
            "password",
            f"The password needs {user_passwords.MIN_LENGTH} to "
            f"{user_passwords.MAX_LENGTH} characters.",
        )
    role = form.choice("role", "Role", ROLES)
    if form.ok and email is not None and role is not None:
        platform = dashboard.platform
        try:
            async with platform.db.begin() as conn:
                await users.create(
                    conn,
                    email=email,
                    password=password,
                    role=role,
                    name=name,
                    now=platform.clock.now(),
                )
        except DomainError as refused:
            if refused.kind is not ErrorKind.CONFLICT:
                raise
            form.problem("email", "A user with this e-mail exists already.")
    if not form.ok:
        form.values.pop("password", None)  # never sent back
        return await _list(request, dashboard, form=form, status=422)
    return _done("created")


async def _change(
    request: Request,
    dashboard: Dashboard,
    user_id: int,
    notice: str,
    *,
    role: str | users.Keep = users.KEEP,
    disabled: bool | users.Keep = users.KEEP,
) -> Response:
    platform = dashboard.platform
    try:
        async with platform.db.begin() as conn:
            await users.update(
                conn, user_id, now=platform.clock.now(), role=role, disabled=disabled
            )
    except DomainError as refused:
        if refused.kind is not ErrorKind.CONFLICT:
            raise
        return await _list(request, dashboard, row_errors={user_id: _sentence(refused)}, status=409)
    session = request.state.session
    if user_id == session.user.id and (disabled is True or role not in (users.KEEP, "admin")):
        # No longer an admin (or signed out): this page is not theirs any more.
        return RedirectResponse("/", status_code=303)
    return _done(notice)


def _sentence(refused: DomainError) -> str:
    text = refused.message
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


@router.post("/users/{user_id}/role")
async def change_role(
    request: Request, user_id: int, session: SessionDep, dashboard: DashboardDep
) -> Response:
    form = await read_form(request)
    role = form.choice("role", "Role", ROLES)
    if role is None:
        return await _list(
            request, dashboard, row_errors={user_id: form.errors["role"]}, status=422
        )
    return await _change(request, dashboard, user_id, "role", role=role)


@router.post("/users/{user_id}/disable")
async def disable_user(
    request: Request, user_id: int, session: SessionDep, dashboard: DashboardDep
) -> Response:
    return await _change(request, dashboard, user_id, "disabled", disabled=True)


@router.post("/users/{user_id}/enable")
async def enable_user(
    request: Request, user_id: int, session: SessionDep, dashboard: DashboardDep
) -> Response:
    return await _change(request, dashboard, user_id, "enabled", disabled=False)


@router.post("/users/{user_id}/delete")
async def delete_user(
    request: Request, user_id: int, session: SessionDep, dashboard: DashboardDep
) -> Response:
    platform = dashboard.platform
    try:
        async with platform.db.begin() as conn:
            await users.delete(conn, user_id)
    except DomainError as refused:
        if refused.kind is not ErrorKind.CONFLICT:
            raise
        return await _list(request, dashboard, row_errors={user_id: _sentence(refused)}, status=409)
    return _done("deleted")
