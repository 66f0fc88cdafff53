from piccolo.conf.apps import AppConfig

from okno.platform.database import migrations_folder
from okno.platform.teams.tables import Team, TeamMember, Topic

APP_CONFIG = AppConfig(
    app_name="teams",
    migrations_folder_path=migrations_folder("teams"),
    table_classes=[Team, TeamMember, Topic],
    migration_dependencies=["okno.platform.chat.piccolo_app", "okno.platform.audit.piccolo_app"],
)

# The modules that declare this feature's columns to destruction (erasure.registry.load).
ERASURE = ("okno.platform.teams.erasure",)
