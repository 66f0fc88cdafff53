"""Piccolo's configuration module (found through PICCOLO_CONF, set by okno.platform.database)."""

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

# The address is bound when okno starts the pool or migrates (okno.platform.database.bind).
DB = PostgresEngine(config={}, extensions=())

APP_REGISTRY = AppRegistry(
    apps=[
        "okno.platform.processing_log.piccolo_app",
        "okno.platform.subjects.piccolo_app",
        "okno.platform.staff.piccolo_app",
        "okno.platform.audit.piccolo_app",
        "okno.platform.chatsettings.piccolo_app",
        "okno.platform.chat.piccolo_app",
        "okno.platform.teams.piccolo_app",
        "okno.platform.hours.piccolo_app",
        "okno.platform.consent.piccolo_app",
        "okno.platform.rights.piccolo_app",
        "okno.platform.erasure.piccolo_app",
        "okno.platform.selfservice.piccolo_app",
        "okno.platform.mailings.piccolo_app",
        "okno.platform.reviews.piccolo_app",
        "okno.platform.incidents.piccolo_app",
        "okno.platform.channels.piccolo_app",
        "okno.platform.webhooks.piccolo_app",
        "okno.platform.reports.piccolo_app",
        "okno.platform.apitokens.piccolo_app",
    ]
)
