from piccolo.conf.apps import AppConfig

from okno.platform.database import migrations_folder
from okno.platform.mailings.tables import Mailing, MailingDelivery

APP_CONFIG = AppConfig(
    app_name="mailings",
    migrations_folder_path=migrations_folder("mailings"),
    table_classes=[Mailing, MailingDelivery],
    migration_dependencies=[
        "okno.platform.processing_log.piccolo_app",
        "okno.platform.chat.piccolo_app",
        "okno.platform.consent.piccolo_app",
    ],
)

# The modules that declare this feature's columns to destruction (erasure.registry.load).
ERASURE = ("okno.platform.mailings.erasure",)
