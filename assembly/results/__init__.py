"""Results: clustering runs over a vote snapshot, the clustering process, and the public results page.

`vote_snapshot` (the latest-vote set and its digest), `runs` (running, storing and reading clustering
runs; `flask cluster`), `process` (the low-priority worker process), `pages` (the results blueprint).
"""
