"""Feature-store semantics on translated projects: a registry of entities and feature groups, point-in-time
training sets with reproducibility manifests and replay, and online (latest) values.

    from seeknal_sqlmesh.features import get_historical_features, get_online_features
    training = get_historical_features(spine_df, ["customer_order_features.order_count"], project="build/sample")
    online = get_online_features("customer", ["CUST-1", "CUST-2"], project="build/sample")

Heavy imports (SQLMesh) happen on first use, so the translator can import the SQL builders cheaply.
"""

from __future__ import annotations

import typing as t

from seeknal_sqlmesh.features.errors import FeatureStoreError

_LAZY = {
    "FeatureStore": "seeknal_sqlmesh.features.store",
    "get_historical_features": "seeknal_sqlmesh.features.store",
    "get_online_features": "seeknal_sqlmesh.features.store",
    "replay_training_set": "seeknal_sqlmesh.features.store",
    "Registry": "seeknal_sqlmesh.features.registry",
}

__all__ = ["FeatureStoreError", *_LAZY]


def __getattr__(name: str) -> t.Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)
