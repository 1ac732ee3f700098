"""REST API of analytics (SPEC §9): read-only endpoints under /api/v1/analytics/; views.py answers, urls.py routes."""
