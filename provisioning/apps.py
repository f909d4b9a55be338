from django.apps import AppConfig


class ProvisioningConfig(AppConfig):
    name = "provisioning"
    verbose_name = "Provisioning"

    def ready(self) -> None:
        from harborconsole import tracing

        tracing.configure_from_settings()
        tracing.connect_celery_signals()
