"""Outgoing webhooks and WeCom / DingTalk group robots (issue 14).

Flow. A service that changes something calls `pipeline.services.webhooks.emit(event, team_ids=..., data=...)` inside
its own transaction: one query finds the active endpoints that want the event (an endpoint bound to a team gets only
that team's events), and one insert writes a WebhookDelivery per endpoint. A rolled-back change therefore sends
nothing. Once the transaction commits, `send_webhook_delivery_task` is published for each delivery (never run in the
request: without a broker, eager mode, nothing is published and the sweeper sends it), so a slow or dead endpoint never
slows a user's request.

Sending (`sending.send_delivery`) is claim → POST → record: a compare-and-set from pending-and-due to sending (row
count says who won; a claim older than the task time limit is free again), one POST with a
SALESFLOW_WEBHOOK_TIMEOUT_SECONDS timeout and no redirects followed, then a WebhookAttempt row and the delivery
delivered, or pending again after a backoff of 1, 2, 4, ... minutes capped at an hour, or failed once the next try
would fall after `expires_at` (SALESFLOW_WEBHOOK_RETRY_HOURS, 24, after the event or the resend). A 2xx answer is
delivered; for robots also only when their JSON answer's `errcode` is 0. Beat's `webhook-sweeper` entry runs every
minute: it publishes a send task for each delivery that is due (retries, and anything lost from the broker), so retries
survive a broker restart; `manage.py send_webhooks` does one sweep (use it from cron when running without Redis).

What is sent. Kind `webhook`: the stored payload `{"event", "event_id", "occurred_at", "data"}` as JSON, with headers
`X-SalesFlow-Event`, `X-SalesFlow-Delivery` (the event id, kept across retries and resends: receivers de-duplicate on
it) and `X-SalesFlow-Signature` (signing.py says how to verify it). Kinds `wecom` and `dingtalk`: the robot's markdown
message (messages.py) in the endpoint's language, to its webhook URL; DingTalk's with `timestamp` and `sign` added
when the endpoint has a secret. Robots bound to a team also get, when subscribed, each member's daily reminder (one
message per member with something due, once per day: key `reminder:<user>:<day>`) and the manager's weekly summary
(once per team and week: key `summary:<week start>`), exactly once per endpoint and key.
"""
