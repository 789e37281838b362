"""Voting: joining an assembly, choosing the next statement, votes and participants' own statements.

`rules` (the domain: what may be seen, voted, added), `pages` (the participant's HTML pages),
`api` (the JSON API's voting routes), `identity` (who the participant is), `next_statement`.
"""
