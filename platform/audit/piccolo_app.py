from piccolo.conf.apps import AppConfig

from okno.platform.audit.tables import StaffAudit
from okno.platform.database import migrations_folder

APP_CONFIG = AppConfig(
    app_name="audit",
    migrations_folder_path=migrations_folder("audit"),
    table_classes=[StaffAudit],
    migration_dependencies=["okno.platform.staff.piccolo_app"],
)

# The modules that declare this feature's columns to destruction (erasure.registry.load).
ERASURE = ("okno.platform.audit.erasure",)
