from piccolo.conf.apps import AppConfig

from okno.platform.database import migrations_folder
from okno.platform.reviews.tables import Review

APP_CONFIG = AppConfig(
    app_name="reviews",
    migrations_folder_path=migrations_folder("reviews"),
    table_classes=[Review],
    migration_dependencies=[
        "okno.platform.processing_log.piccolo_app",
        "okno.platform.chat.piccolo_app",
        "okno.platform.consent.piccolo_app",
    ],
)

# The modules that declare this feature's columns to destruction (erasure.registry.load).
ERASURE = ("okno.platform.reviews.erasure",)
