"""manage.py send_webhooks — one sweep of the webhook deliveries that are due, as beat's `webhook-sweeper` does."""

from django.core.management.base import BaseCommand

from pipeline.tasks import sweep_webhook_deliveries


class Command(BaseCommand):
    help = (
        "Sends the webhook and robot deliveries that are due now (new ones, and retries whose backoff has passed). "
        "With REDIS_URL it queues them for the workers; without it, it sends them itself. Run it every minute from "
        "cron when running without Redis and beat."
    )

    def handle(self, *args, **options) -> None:
        count = sweep_webhook_deliveries()
        self.stdout.write(f"{count} due")
