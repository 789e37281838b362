"""Polis interchange: `read` (export folders in and out of the database), `cli` (`flask polis import|export`
and the export download).
"""
