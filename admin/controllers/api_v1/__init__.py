"""``/api/v1``: the integrations' REST API, reached with an API token (docs/api.md)."""
