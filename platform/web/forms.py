"""A form's two answers: done, on to the next page; refused, the same page again with why.

Re-rendering the form with the refusal's message is rendering, not error translation: the
person corrects what they typed where they typed it (the page answers 400).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from litestar.response import Redirect, Template

from okno.platform.errors import Refused

# The form's page again, with the refusal's message.
Again = Callable[[str], Awaitable[Template]]


async def submitted(
    change: Callable[[], Awaitable[object]],
    done: str,
    again: Again,
    refusals: type[Refused] | tuple[type[Refused], ...] = Refused,
) -> Template | Redirect:
    """Make ``change`` (a callable, so that reading the form's values is refused here too),
    then see ``done`` (303); refused with one of ``refusals``, ``again`` with why."""
    try:
        await change()
    except refusals as refused:
        return await again(refused.message)
    return Redirect(done, status_code=303)
