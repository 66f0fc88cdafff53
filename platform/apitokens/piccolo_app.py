from piccolo.conf.apps import AppConfig

from okno.platform.apitokens.tables import ApiToken
from okno.platform.database import migrations_folder

APP_CONFIG = AppConfig(
    app_name="apitokens",
    migrations_folder_path=migrations_folder("apitokens"),
    table_classes=[ApiToken],
    migration_dependencies=[
        "okno.platform.staff.piccolo_app",
        "okno.platform.consent.piccolo_app",
        "okno.platform.processing_log.piccolo_app",
    ],
)

# The modules that declare this feature's columns to destruction (erasure.registry.load).
ERASURE = ("okno.platform.apitokens.erasure",)
