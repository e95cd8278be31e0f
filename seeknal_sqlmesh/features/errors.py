"""Errors of the feature store meant for people: what is wrong and where (exit code 2 on the command line)."""

from __future__ import annotations

from seeknal_sqlmesh.errors import SeeknalError


class FeatureStoreError(SeeknalError):
    """A request the feature store cannot serve: an unknown feature, a spine without a key column, a snapshot the
    janitor removed, ... The message names the thing and the place (file, environment, column)."""
