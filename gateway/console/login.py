"""Signing in and out of the console. Refusals say nothing of whether the login
exists; past a few, each new try of that login from that address waits longer (and
an address that failed too often waits a quarter of an hour): the client's address
is the one the trusted proxies name (see ``trust_proxies`` in gateway/access.py)."""

import math
from datetime import UTC, datetime, timedelta
from typing import Annotated

import structlog
from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.access import SESSION_COOKIE, CallerOf, Guards
from gateway.console.pages import render
from store import accounts
from store.database import Store

log = structlog.get_logger(__name__)

LOGIN_PATH = "/connexion"
FIELD_MAX_LENGTH = 256


def _safe_next(target: str) -> str:
    """Only a path of this site, so that the login page cannot send people elsewhere."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


def _wait(delay: timedelta) -> str:
    seconds = math.ceil(delay.total_seconds())
    return f"{seconds} s" if seconds < 120 else f"{math.ceil(seconds / 60)} min"


def login_router(store: Store, guards: Guards, *, secure_cookie: bool) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get(LOGIN_PATH)
    async def login_page(request: Request, next: str = "/") -> HTMLResponse:
        return render(request, "console/login.html", next=_safe_next(next), login="")

    @router.post(LOGIN_PATH)
    def login(
        request: Request,
        login: Annotated[str, Form(max_length=FIELD_MAX_LENGTH)],
        password: Annotated[str, Form(max_length=FIELD_MAX_LENGTH)],
        next: Annotated[str, Form(max_length=FIELD_MAX_LENGTH)] = "/",
    ) -> Response:
        address = request.client.host if request.client else "?"
        now = datetime.now(UTC)
        login = login.strip().lower()

        def refused(status_code: int, error: str) -> HTMLResponse:
            return render(
                request,
                "console/login.html",
                status_code,
                next=_safe_next(next),
                login=login,
                error=error,
            )

        with store.session() as session:
            try:
                account = accounts.authenticate(session, login, password, address, now)
            except accounts.TooManyAttemptsError as error:
                log.warning("console.login_slowed", login=login, address=address)
                return refused(
                    status.HTTP_429_TOO_MANY_REQUESTS,
                    f"Trop de tentatives : réessayez dans {_wait(error.retry_after)}.",
                )
            if account is None:
                session.commit()
                log.info("console.login_refused", login=login, address=address)
                return refused(
                    status.HTTP_401_UNAUTHORIZED, "Identifiant ou mot de passe incorrect."
                )
            secret, _ = accounts.open_session(session, account, now)
            session.commit()
        log.info("console.login", login=login)
        response = RedirectResponse(_safe_next(next), status.HTTP_303_SEE_OTHER)
        response.set_cookie(
            SESSION_COOKIE,
            secret,
            max_age=int(accounts.SESSION_LIFETIME.total_seconds()),
            httponly=True,
            secure=secure_cookie,
            samesite="lax",
        )
        return response

    @router.post("/deconnexion", dependencies=[guards.anyone])
    def logout(request: Request, caller: CallerOf) -> Response:
        with store.session() as session:
            accounts.close_session(session, request.cookies.get(SESSION_COOKIE, ""))
            session.commit()
        log.info("console.logout", login=caller.account.login)
        response = RedirectResponse(LOGIN_PATH, status.HTTP_303_SEE_OTHER)
        response.delete_cookie(SESSION_COOKIE, httponly=True, secure=secure_cookie, samesite="lax")
        return response

    return router
