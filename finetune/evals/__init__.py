"""Evals: does an adapter hold the community's consensus, speak for every group, and stay safe?

Pure ML, no Flask or database. Items (``items``) are scored by the log-likelihood of fixed answer
options (``scoring``), suites (``suites``) turn assembly data into items and metrics, ``metrics``
holds the scores and bootstrap intervals, ``report`` compares base and adapter and applies the
promotion rule, ``lmeval_export`` writes lm-evaluation-harness task folders.
"""
