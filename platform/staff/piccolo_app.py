from piccolo.conf.apps import AppConfig

from okno.platform.database import migrations_folder
from okno.platform.staff.tables import StaffLoginFailure, StaffSession, StaffUser

APP_CONFIG = AppConfig(
    app_name="staff",
    migrations_folder_path=migrations_folder("staff"),
    table_classes=[StaffUser, StaffSession, StaffLoginFailure],
)

# The modules that declare this feature's columns to destruction (erasure.registry.load).
ERASURE = ("okno.platform.staff.erasure",)
