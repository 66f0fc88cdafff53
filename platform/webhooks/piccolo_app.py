from piccolo.conf.apps import AppConfig

from okno.platform.database import migrations_folder
from okno.platform.webhooks.tables import WebhookDelivery, WebhookEndpoint

APP_CONFIG = AppConfig(
    app_name="webhooks",
    migrations_folder_path=migrations_folder("webhooks"),
    table_classes=[WebhookEndpoint, WebhookDelivery],
    migration_dependencies=["okno.platform.staff.piccolo_app"],
)

# The modules that declare this feature's columns to destruction (erasure.registry.load).
ERASURE = ("okno.platform.webhooks.erasure",)
