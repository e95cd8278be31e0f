"""Synthetic Seeknal projects of any size for benchmarks: layered sources -> transforms -> feature groups,
aggregations and rules, every node a realistic YAML file."""

from __future__ import annotations

import random
from pathlib import Path

import yaml

HEADER = "order_id,customer_id,order_date,amount\n"


def write_synthetic_project(root: Path, nodes: int, seed: int = 7) -> Path:
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / "seeknal_project.yml").write_text("name: synthetic\nversion: 1.0.0\n")
    (root / "data").mkdir(exist_ok=True)
    (root / "data" / "orders.csv").write_text(HEADER + "".join(f"{i},C{i % 50},2024-01-{1 + i % 28:02d},{i % 97}.5\n" for i in range(200)))
    base = root / "seeknal"
    sources = max(1, nodes // 20)
    produced: list[str] = []

    def write(kind: str, name: str, body: dict) -> None:
        path = base / f"{kind}s" / f"{name}.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump({"kind": kind, "name": name, **body}, sort_keys=False))

    for i in range(sources):
        write("source", f"orders_{i}", {"source": "csv", "table": "data/orders.csv", "description": f"orders copy {i}"})
        produced.append(f"source.orders_{i}")
    count = sources
    i = 0
    while count < nodes:
        pick = rng.random()
        upstream = rng.sample(produced[-40:], k=min(2, len(produced[-40:])))
        if pick < 0.6 or len(upstream) < 2:
            write("transform", f"t_{i}", {
                "inputs": [{"ref": upstream[0]}],
                "transform": "SELECT customer_id, order_date, SUM(amount) AS amount, COUNT(*) AS order_id\n"
                             f"FROM ref('{upstream[0]}') WHERE amount > {i % 10}\nGROUP BY customer_id, order_date",
                "tags": ["synthetic"],
                "columns": {"amount": "total amount"},
            })
            produced.append(f"transform.t_{i}")
        elif pick < 0.75:
            write("transform", f"j_{i}", {
                "inputs": [{"ref": u} for u in upstream],
                "transform": "SELECT a.customer_id, a.order_date, a.amount + COALESCE(b.amount, 0) AS amount, a.order_id\n"
                             "FROM input_0 a LEFT JOIN input_1 b ON a.customer_id = b.customer_id AND a.order_date = b.order_date",
            })
            produced.append(f"transform.j_{i}")
        elif pick < 0.85:
            write("feature_group", f"fg_{i}", {
                "entity": {"name": "customer", "join_keys": ["customer_id"]},
                "materialization": {"event_time_col": "order_date"},
                "inputs": [{"ref": upstream[0]}],
                "transform": "SELECT customer_id, order_date, SUM(amount) AS spend FROM source GROUP BY ALL",
                "features": {"spend": {"description": "spend per day"}},
            })
        elif pick < 0.93:
            write("aggregation", f"agg_{i}", {
                "id_col": "customer_id", "feature_date_col": "order_date", "application_date_col": "order_date",
                "source": upstream[0], "inputs": [{"ref": upstream[0]}],
                "features": [{"name": "spend", "column": "amount", "basic": ["sum", "count", "avg"]}],
            })
        else:
            write("rule", f"rule_{i}", {
                "inputs": [{"ref": upstream[0]}],
                "rule": {"type": "range", "column": "amount", "params": {"min_val": 0, "max_val": 10_000}},
                "params": {"severity": "warn"},
            })
        count += 1
        i += 1
    return root
