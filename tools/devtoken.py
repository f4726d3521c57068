"""Print a development bearer token (every scope, every company), signed with AUTH_JWT_SECRET.

    TOKEN=$(make -s token); curl -H "Authorization: Bearer $TOKEN" localhost:8001/v1/...
Production tokens come from your identity provider (AUTH_JWT_PUBLIC_KEY, RS256)."""

import argparse

from fincore.auth import ALL_SCOPES, mint_token
from fincore.settings import ServiceSettings

ap = argparse.ArgumentParser(description=__doc__)
ap.add_argument("--scope", action="append", help="scope (repeatable); default: all")
ap.add_argument("--company", action="append", help="company id (repeatable); default: *")
ap.add_argument("--subject", default="developer")
args = ap.parse_args()
print(mint_token(ServiceSettings(), subject=args.subject, scopes=args.scope or ALL_SCOPES,
                 companies=args.company or ["*"]))
