"""The public page of published reviews."""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Template

from okno.platform.reviews.service import published
from okno.platform.web.access import PUBLIC


class ReviewsPage(Controller):
    include_in_schema = False

    @get("/reviews", opt=PUBLIC)
    async def reviews(self) -> Template:
        """Published reviews; a name appears only while its dissemination consent is in force."""
        reviews = await published()
        average = sum(r["rating"] for r in reviews) / len(reviews) if reviews else None
        return Template("portal/reviews.html", context={"reviews": reviews, "average": average})
