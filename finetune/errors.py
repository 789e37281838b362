"""Errors the fine-tuning stage raises, each with a message a facilitator can act on.

The glue (CLI, jobs, pages) shows `str(error)` as is, so every message says what went wrong and
what to do next. Nothing here imports torch, so the web app can catch these cheaply.
"""

from __future__ import annotations


class FinetuneError(Exception):
    """Base class: a fine-tuning step refused or failed, and left nothing half-written."""


class UnknownBaseModelError(FinetuneError):
    """The base model name is neither registered, a local Hugging Face folder, nor a reachable hub id."""


class BaseModelUnavailableError(FinetuneError):
    """The base model is known but cannot be installed here (missing package, no network for a hub id)."""


class InvalidDatasetInputError(FinetuneError):
    """The constitution export or the vote figures are not in the documented shape."""


class EmptyDatasetError(FinetuneError):
    """There is nothing to train on (no usable statements left after the hold-out and the filters)."""


class InvalidConfigError(FinetuneError):
    """A training setting is out of range; the message names the setting and the value."""


class CorruptCheckpointError(FinetuneError):
    """A checkpoint to resume from is unreadable; the message names the folder to delete."""


class DiskFullError(FinetuneError):
    """The disk filled up while writing; the partial files were removed."""



class CritiqueUnsupportedError(FinetuneError):
    """The critique-and-revision stage was asked of a base model without a chat template."""
