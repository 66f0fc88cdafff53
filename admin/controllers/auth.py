"""Staff sign-in, sign-out and password change."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_401_UNAUTHORIZED,
    HTTP_429_TOO_MANY_REQUESTS,
)

from okno.admin.forms import LoginForm, PasswordForm
from okno.platform.settings import get_settings
from okno.platform.staff import accounts, passwords, sessions, signin
from okno.platform.staff.errors import LoginFailedError
from okno.platform.web import security
from okno.platform.web.access import (
    ANY_STAFF,
    PASSWORD_CHANGE,
    PUBLIC,
    STAFF_COOKIE,
    current_staff,
    staff,
)
from okno.platform.web.security import secure_cookies
from okno.platform.web.timefmt import msk

KNOWN_COOKIE = "okno_known"  # this browser has signed in before: see signin.authenticate
KNOWN_DAYS = 90


def _safe_next(target: str) -> str:
    # Only paths inside the console: never an open redirect to another host.
    return target if target.startswith("/admin") and not target.startswith("//") else "/admin"


class AuthController(Controller):
    path = "/admin"
    include_in_schema = False

    @get("/login", opt=PUBLIC)
    async def login_page(self, next: FromQuery[str] = "/admin") -> Template:
        return Template("admin/login.html", context={"next": _safe_next(next)})

    @post("/login", opt=PUBLIC)
    async def login(self, request: Request, data: URLEncodedBody[LoginForm]) -> Template | Redirect:
        try:
            user = await signin.authenticate(
                data.login,
                data.password,
                ip=request.client.host if request.client else None,
                known=request.cookies.get(KNOWN_COOKIE),
            )
        except LoginFailedError as failure:
            locked = failure.locked_until is not None
            message = (
                "Слишком много неудачных попыток."
                f" Вход снова возможен после {msk(failure.locked_until)}."
                if locked
                else "Неверный логин или пароль."
            )
            return Template(
                "admin/login.html",
                context={"error": message, "login": data.login, "next": _safe_next(data.next)},
                status_code=HTTP_429_TOO_MANY_REQUESTS if locked else HTTP_401_UNAUTHORIZED,
            )
        # Signing in replaces the session this browser presented (another account's, say).
        token = await sessions.start_session(user.id, replacing=request.cookies.get(STAFF_COOKIE))
        target = "/admin/password" if user.must_change_password else _safe_next(data.next)
        settings = get_settings()
        secure = secure_cookies(settings)
        cookies = [
            Cookie(
                key=STAFF_COOKIE,
                value=token,
                httponly=True,
                samesite="lax",
                secure=secure,
                max_age=settings.session_ttl_minutes * 60,
                path="/",
            ),
            Cookie(
                key=KNOWN_COOKIE,
                value=signin.known_browser_token(user.id, await signin.password_hash_of(user.id)),
                httponly=True,
                samesite="lax",
                secure=secure,
                max_age=KNOWN_DAYS * 24 * 3600,
                path="/",
            ),
            security.new_nonce_cookie(secure),  # a new session, new CSRF tokens
        ]
        return Redirect(target, status_code=303, cookies=cookies)

    @post("/logout", guards=[staff(*ANY_STAFF)], opt=PASSWORD_CHANGE)
    async def logout(self, request: Request) -> Redirect:
        await sessions.end_session(request.cookies[STAFF_COOKIE])
        response = Redirect("/admin/login", status_code=303)
        response.delete_cookie(STAFF_COOKIE, path="/")
        response.cookies.append(security.new_nonce_cookie(secure_cookies(get_settings())))
        return response

    @get("/password", guards=[staff(*ANY_STAFF)], opt=PASSWORD_CHANGE)
    async def password_page(self, request: Request, ended: FromQuery[int] = -1) -> Template:
        """The password form and the account's sessions (other browsers can be signed out)."""
        user = await current_staff(request)
        assert user is not None
        live = await sessions.sessions_of(user.id, request.cookies[STAFF_COOKIE])
        return Template(
            "admin/password.html",
            context={"user": user, "sessions": live, "ended": ended},
        )

    @post("/sessions/end-others", guards=[staff(*ANY_STAFF)])
    async def end_other_sessions(self, request: Request) -> Redirect:
        """Sign out every other browser of this account."""
        user = await current_staff(request)
        assert user is not None
        ended = await sessions.end_other_sessions(user.id, request.cookies[STAFF_COOKIE])
        return Redirect(f"/admin/password?ended={ended}", status_code=303)

    @post("/password", guards=[staff(*ANY_STAFF)], opt=PASSWORD_CHANGE)
    async def change_password(
        self, request: Request, data: URLEncodedBody[PasswordForm]
    ) -> Template | Redirect:
        user = await current_staff(request)
        assert user is not None
        error = None
        if data.new != data.repeat:
            error = "Новый пароль и повтор не совпадают."
        else:
            try:
                await signin.authenticate(
                    user.login,
                    data.current,
                    ip=request.client.host if request.client else None,
                    known=request.cookies.get(KNOWN_COOKIE),
                )
                await accounts.set_password(user.login, data.new)
            except LoginFailedError as failure:
                error = (
                    "Текущий пароль указан неверно."
                    if failure.locked_until is None
                    else "Слишком много неудачных попыток."
                    f" Повторите после {msk(failure.locked_until)}."
                )
            except passwords.WeakPasswordError as weak:
                error = f"Новый пароль не подходит: {weak}."
        if error:
            live = await sessions.sessions_of(user.id, request.cookies[STAFF_COOKIE])
            return Template(
                "admin/password.html",
                context={"user": user, "error": error, "sessions": live, "ended": -1},
                status_code=HTTP_400_BAD_REQUEST,
            )
        # Changing the password ended every session, this one too: sign in again.
        return Redirect("/admin/login?changed=1", status_code=303)
