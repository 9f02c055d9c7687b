"""Who is calling, and whether their role reaches the route. Staff reach every
route; a representative reaches the events they represent now; a departmental union
(UD) the events of its department. A browser signs in
with a session cookie and proves each change with its CSRF token; a script sends an
API token, which a forged page cannot make a browser send."""

import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import structlog
from anyio import to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from starlette.routing import BaseRoute
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from definitions.accounts import Account, Role
from store import accounts
from store.database import Store

log = structlog.get_logger(__name__)

SESSION_COOKIE = "tocsin_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

BEARER = HTTPBearer(auto_error=False, description="jeton d'API (`tocsin token create`)")
COOKIE = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, description="session de la console (après /login)"
)


class NotSignedInError(PermissionError):
    """No session nor token, or one that is expired or revoked: 401."""


class ForbiddenError(PermissionError):
    """Signed in, but the role does not reach this route, or the CSRF token is wrong: 403."""


@dataclass(frozen=True)
class Caller:
    account: Account
    csrf_token: str | None
    """Set for a browser session, None for an API token."""

    @property
    def actor(self) -> str:
        """How the crisis log names what this caller did."""
        return self.account.login

    @property
    def department_scope(self) -> str | None:
        """The only department whose part of an event a UD reads; None: every one."""
        return self.account.department if self.account.role is Role.UD else None


async def _sent_csrf_token(request: Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


@dataclass(frozen=True)
class _Identified:
    """What the store says of a request's credentials."""

    account: Account
    csrf_token: str | None
    represents_event: bool
    """Whether the account reaches the event in the path: represents it, or, for a UD,
    the event touches its department (wholly within it for a ``whole_event`` route;
    asked only when it matters)."""


class RoleGuard:
    """A route's dependency: lets through the roles it names (a representative only
    for the event in the path when ``own_event``; a UD then only for an event that
    touches its department, or, when ``whole_event``, that lies wholly within it),
    and leaves the caller in ``request.state.caller``. The OpenAPI schema lists
    each route's roles from it. It guards every request, so its store reads run in
    a thread: a slow database holds up the request that asked, not the event loop."""

    def __init__(
        self,
        store: Store,
        roles: tuple[Role, ...],
        *,
        own_event: bool,
        whole_event: bool = False,
        csrf: bool = True,
    ) -> None:
        self.store = store
        self.roles = roles
        self.own_event = own_event
        self.whole_event = whole_event
        self.csrf = csrf
        """False only for routes that change nothing and answer only origins CORS allows."""

    async def __call__(
        self,
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
        cookie: Annotated[str | None, Depends(COOKIE)],
    ) -> Caller:
        event_id = request.path_params.get("event_id")
        token = None if bearer is None else bearer.credentials
        identified = await to_thread.run_sync(self._identify, token, cookie, event_id)
        if identified is None:
            if token is not None:
                log.info("access.token_refused", path=request.url.path)
                raise NotSignedInError("jeton d'API inconnu ou révoqué")
            raise NotSignedInError("connexion requise")
        if (
            self.csrf
            and identified.csrf_token is not None
            and request.method not in SAFE_METHODS
            and not secrets.compare_digest(await _sent_csrf_token(request), identified.csrf_token)
        ):
            log.warning("access.csrf_refused", path=request.url.path)
            raise ForbiddenError("jeton CSRF absent ou faux : rechargez la page")
        caller = Caller(identified.account, identified.csrf_token)
        if caller.account.role not in self.roles:
            log.info("access.role_refused", login=caller.account.login, path=request.url.path)
            raise ForbiddenError("votre rôle ne permet pas cette action")
        if (
            self.own_event
            and caller.account.role is not Role.STAFF
            and not identified.represents_event
        ):
            log.info("access.event_refused", login=caller.account.login, event_id=event_id)
            if caller.account.role is Role.UD and self.whole_event:
                raise ForbiddenError(
                    "cet événement déborde votre département : l'astreinte UNCCAS le conduit"
                )
            if caller.account.role is Role.UD:
                raise ForbiddenError("cet événement ne touche pas votre département")
            raise ForbiddenError("vous ne représentez pas UNCCAS pour cet événement")
        request.state.caller = caller
        return caller

    def _identify(
        self, token: str | None, cookie: str | None, event_id: str | None
    ) -> _Identified | None:
        """The account an API token (first) or a session cookie signs in, in one
        session; None when neither does."""
        with self.store.session() as session:
            if token is not None:
                account = accounts.token_account(session, token)
                csrf_token = None
            elif cookie:
                signed_in = accounts.session_account(session, cookie, datetime.now(UTC))
                if signed_in is None:
                    return None
                account, csrf_token = signed_in.account, signed_in.csrf_token
            else:
                return None
            if account is None:
                return None
            reaches = accounts.holds_event if self.whole_event else accounts.reaches_event
            represents = (
                self.own_event
                and account.role is not Role.STAFF
                and event_id is not None
                and reaches(session, account, event_id)
            )
        return _Identified(account, csrf_token, represents)


@dataclass(frozen=True)
class Guards:
    """The doors of the gateway's protected routes. ``own_department``: staff, and
    a UD for its own department only, which the route checks (the area it declares)
    or narrows to (the directory's freshness it reads). ``event_member`` reads an
    event (a UD its own department's part); ``event_actor`` acts on the whole event
    (a UD only on one wholly within its department)."""

    staff: Any
    event_member: Any
    event_actor: Any
    anyone: Any
    own_department: Any

    @classmethod
    def over(cls, store: Store) -> "Guards":
        every = (Role.STAFF, Role.REPRESENTATIVE, Role.UD)
        return cls(
            staff=Depends(RoleGuard(store, (Role.STAFF,), own_event=False)),
            event_member=Depends(RoleGuard(store, every, own_event=True)),
            event_actor=Depends(RoleGuard(store, every, own_event=True, whole_event=True)),
            anyone=Depends(RoleGuard(store, every, own_event=False)),
            own_department=Depends(RoleGuard(store, (Role.STAFF, Role.UD), own_event=False)),
        )


def caller_of(request: Request) -> Caller:
    """The caller a route's guard let through."""
    caller: Caller = request.state.caller
    return caller


CallerOf = Annotated[Caller, Depends(caller_of)]


def declared_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """Every API route, those of included routers too (recent FastAPI keeps an
    included router whole rather than copying its routes)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from declared_routes(included.routes)


def route_guard(route: APIRoute) -> RoleGuard | None:
    for dependency in route.dependencies:
        if isinstance(dependency.dependency, RoleGuard):
            return dependency.dependency
    return None


def document_roles(app: FastAPI) -> None:
    """Each guarded operation of the schema says which roles reach it (``x-roles``)."""
    schema = app.openapi()
    for route in declared_routes(app.routes):
        if not route.include_in_schema:
            continue
        guard = route_guard(route)
        if guard is None:
            continue
        roles = [role.value for role in guard.roles]
        scope = " (ses propres événements)" if guard.own_event else ""
        if guard.whole_event:
            scope = (
                " (ses propres événements ; une union départementale :"
                " ceux tout entiers dans son département)"
            )
        for method in route.methods or ():
            operation = schema["paths"][route.path_format][method.lower()]
            operation["x-roles"] = roles
            labels = ", ".join(role.label for role in guard.roles)
            operation["description"] = (
                f"{operation.get('description', '')}\n\nRôles : {labels}{scope}."
            ).strip()


def trust_proxies(app: FastAPI, proxies: Sequence[str]) -> None:
    """The client's address (logs, sign-in throttling) is taken from
    ``X-Forwarded-For`` only when the request comes from one of these addresses or
    networks, and then as the last address in it that is not one of them; from
    anywhere else the header is ignored. Outermost, so that every part sees it."""
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(proxies))
