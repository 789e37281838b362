"""Facilitation: creating and editing assemblies, seeding and moderating statements, invitations, live counts.

`pages` (the facilitator blueprint; `moderation` and `invites` add routes to it), `forms` (form
validation), `stats` (live counts), `api` (the JSON API's assembly routes).
"""
