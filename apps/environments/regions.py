"""The regions offered for cluster deployment (004's GET /api/v1/clusters/regions), a static list.

Hangar does not create clusters; these name where an operator's registered clusters run.
"""

REGIONS: list[dict[str, str]] = [
    {"id": "GRA", "name": "Gravelines", "country": "FR", "provider": "ovh"},
    {"id": "SBG", "name": "Strasbourg", "country": "FR", "provider": "ovh"},
    {"id": "RBX", "name": "Roubaix", "country": "FR", "provider": "ovh"},
    {"id": "BHS", "name": "Beauharnois", "country": "CA", "provider": "ovh"},
    {"id": "DE1", "name": "Frankfurt", "country": "DE", "provider": "ovh"},
    {"id": "UK1", "name": "London", "country": "GB", "provider": "ovh"},
    {"id": "WAW", "name": "Warsaw", "country": "PL", "provider": "ovh"},
    {"id": "SGP", "name": "Singapore", "country": "SG", "provider": "ovh"},
    {"id": "SYD", "name": "Sydney", "country": "AU", "provider": "ovh"},
    {"id": "US-EAST-VA", "name": "Vint Hill, Virginia", "country": "US", "provider": "ovh"},
    {"id": "US-WEST-OR", "name": "Hillsboro, Oregon", "country": "US", "provider": "ovh"},
    {"id": "local", "name": "Self-hosted", "country": "", "provider": "self_hosted"},
]
