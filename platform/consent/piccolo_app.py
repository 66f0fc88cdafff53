from piccolo.conf.apps import AppConfig

from okno.platform.consent.tables import (
    ConsentDocument,
    ConsentDocumentVersion,
    ConsentEvent,
    Purpose,
)
from okno.platform.database import migrations_folder

APP_CONFIG = AppConfig(
    app_name="consent",
    migrations_folder_path=migrations_folder("consent"),
    table_classes=[Purpose, ConsentDocument, ConsentDocumentVersion, ConsentEvent],
    migration_dependencies=[
        "okno.platform.processing_log.piccolo_app",
        "okno.platform.subjects.piccolo_app",
        "okno.platform.staff.piccolo_app",
        "okno.platform.chat.piccolo_app",
    ],
)

# The modules that declare this feature's columns to destruction (erasure.registry.load).
ERASURE = ("okno.platform.consent.erasure",)
