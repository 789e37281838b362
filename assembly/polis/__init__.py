"""Polis interchange: `read` (parse and validate an export folder), `write` (store it as a new assembly),
`export` (an assembly out to Polis's files), `cli` (`flask polis import|export` and the export download).
"""
