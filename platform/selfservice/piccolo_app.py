from piccolo.conf.apps import AppConfig

from okno.platform.database import migrations_folder
from okno.platform.selfservice.tables import MailOutbox, PortalCode, PortalExport, PortalSession

APP_CONFIG = AppConfig(
    app_name="selfservice",
    migrations_folder_path=migrations_folder("selfservice"),
    table_classes=[PortalSession, PortalCode, PortalExport, MailOutbox],
    migration_dependencies=[
        "okno.platform.subjects.piccolo_app",
        "okno.platform.consent.piccolo_app",
        "okno.platform.rights.piccolo_app",
    ],
)

# The modules that declare this feature's columns to destruction (erasure.registry.load).
ERASURE = ("okno.platform.selfservice.erasure",)
