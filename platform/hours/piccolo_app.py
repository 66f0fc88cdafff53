from piccolo.conf.apps import AppConfig

from okno.platform.database import migrations_folder
from okno.platform.hours.tables import TeamHours

APP_CONFIG = AppConfig(
    app_name="hours",
    migrations_folder_path=migrations_folder("hours"),
    table_classes=[TeamHours],
    migration_dependencies=["okno.platform.chat.piccolo_app"],
)

# The modules that declare this feature's columns to destruction (erasure.registry.load).
ERASURE = ("okno.platform.hours.erasure",)
