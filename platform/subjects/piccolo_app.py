from piccolo.conf.apps import AppConfig

from okno.platform.database import migrations_folder
from okno.platform.subjects.tables import Subject, SubjectField

APP_CONFIG = AppConfig(
    app_name="subjects",
    migrations_folder_path=migrations_folder("subjects"),
    table_classes=[Subject, SubjectField],
)

# The modules that declare this feature's columns to destruction (erasure.registry.load).
ERASURE = ("okno.platform.subjects.erasure",)
