from piccolo.conf.apps import AppConfig

from okno.platform.database import migrations_folder
from okno.platform.processing_log.tables import (
    ProcessingLog,
    ProcessingLogChain,
    ProcessingLogUnsealed,
)

APP_CONFIG = AppConfig(
    app_name="processing_log",
    migrations_folder_path=migrations_folder("processing_log"),
    table_classes=[ProcessingLog, ProcessingLogChain, ProcessingLogUnsealed],
)

# The modules that declare this feature's columns to destruction (erasure.registry.load).
ERASURE = ("okno.platform.processing_log.erasure",)
