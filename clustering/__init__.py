"""Polis-faithful opinion groups from a sparse vote matrix; pure torch, no Flask, no database."""
