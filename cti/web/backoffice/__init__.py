"""The back office: telesales, collection, cases, incoming-call messages, suspects, configuration
(the telemarketing tickets' catalogues too), the quality team's non-conformities,
and personal-data protection (masking, audit log search, exports); user administration; what cti
finds wrong in a PBX's own configuration.

One module per area; each declares its endpoints with ``register(api)``. All paths are under
``/api/v1/``; bodies and answers are JSON; a refusal names the field
(``{"error", "field", "problem"}``), 404 for an unknown record, 409 when a rule forbids the change.
"""

from __future__ import annotations

from cti.web.api import Api
from cti.web.backoffice import (
    cases,
    collection,
    customers_search,
    leads,
    messages,
    pbx_warnings,
    privacy,
    quality,
    scripts,
    settings,
    telesales,
    users,
)


def register(api: Api) -> None:
    """Declare the back-office endpoints."""
    for part in (telesales, collection, cases, messages, leads, settings, privacy, users, scripts):
        part.register(api)
    quality.register(api)
    customers_search.register(api)
    pbx_warnings.register(api)
