"""REST API of accounts (SPEC §9): users, teams, territory and customers. Shared API plumbing lives in core/api.py."""
