#!/usr/bin/env python3
"""Deterministic data generator for the Seeknal sample project ("shopline" e-commerce).

Writes every data file the sample project reads:

    data/customers.csv        CRM export, ';'-delimited, duplicated versions, NULL emails
    data/campaigns.csv        discount campaigns (plain comma CSV)
    data/products.parquet     product catalogue
    data/order_items.parquet  order lines
    data/orders.json          orders as a JSON array, status-update duplicates, guest orders
    data/web_events.jsonl     clickstream, anonymous sessions, re-delivered and late events
    data/product_reviews.csv  product reviews (read by a Python @source)
    data/shop.sqlite          table `payments` (read by a sqlite source)

Usage:
    python sample_project/generate.py                       # scale 1 into sample_project/data
    python sample_project/generate.py --scale 100 --out /tmp/data100
    python sample_project/generate.py --scale 10 --project-out /tmp/shopline_x10
    python sample_project/generate.py --check               # scale 1 == committed files?

`--scale 1` with the default seed reproduces the committed files byte for byte (CSV, JSON
and JSONL always; Parquet and SQLite as long as the pyarrow / SQLite library versions
embed the same version strings; otherwise `--check` falls back to comparing the logical
content and says so, unless `--strict`). Larger scales produce proportionally more rows
of every table over the same 91-day window (2024-01-01 .. 2024-03-31).

Only the standard library and pyarrow are used.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import datetime as dt
import filecmp
import io
import json
import os
import random
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DATA_DIR = HERE / "data"
DEFAULT_SEED = 20240331

START = dt.date(2024, 1, 1)
DAYS = 91  # 2024-01-01 .. 2024-03-31 inclusive
AS_OF = START + dt.timedelta(days=DAYS - 1)

# Rows per table at scale 1 (before duplicates).
BASE = {
    "customers": 60,
    "products": 24,
    "campaigns": 6,
    "orders": 240,
    "sessions": 110,
    "reviews": 80,
}

DATA_FILES = [
    "customers.csv",
    "campaigns.csv",
    "products.parquet",
    "order_items.parquet",
    "orders.json",
    "web_events.jsonl",
    "product_reviews.csv",
    "shop.sqlite",
]

COUNTRIES = [  # code, weight, cities
    ("ID", 35, ["Jakarta", "Surabaya", "Bandung", "Medan"]),
    ("SG", 20, ["Singapore"]),
    ("MY", 15, ["Kuala Lumpur", "Penang", "Johor Bahru"]),
    ("TH", 12, ["Bangkok", "Chiang Mai"]),
    ("PH", 10, ["Manila", "Cebu"]),
    ("VN", 8, ["Ho Chi Minh City", "Hanoi"]),
]
FIRST_NAMES = [
    "Adi", "Budi", "Citra", "Dewi", "Eka", "Fajar", "Gita", "Hadi", "Indah", "Joko",
    "Kartika", "Lina", "Maya", "Nanda", "Oscar", "Putri", "Rizky", "Sari", "Tono", "Wulan",
    "Aiko", "Ben", "Chloe", "Daniel", "Elena", "Farid", "Grace", "Hana", "Ivan", "Jia",
]
LAST_NAMES = [
    "Santoso", "Wijaya", "Tan", "Lim", "Nguyen", "Reyes", "Chen", "Pratama", "Halim",
    "Kusuma", "Wong", "Siregar", "Nair", "Garcia", "Tran", "Ong",
]
SEGMENTS = [("consumer", 70), ("smb", 22), ("enterprise", 8)]
CATEGORIES = {
    "electronics": (["Aurora", "Voltix", "Nimbus"], ["Wireless Earbuds", "Smart Watch", "Power Bank", "Bluetooth Speaker", "USB-C Hub"], (19.0, 249.0)),
    "home": (["Casa", "Loftly"], ["Ceramic Mug Set", "Desk Lamp", "Linen Throw", "Storage Box"], (9.0, 89.0)),
    "apparel": (["Kain", "Northwind"], ["Batik Shirt", "Running Tee", "Rain Jacket", "Canvas Tote"], (12.0, 120.0)),
    "beauty": (["Lumi", "Sora"], ["Face Serum", "Sunscreen SPF50", "Lip Balm"], (6.0, 65.0)),
    "sports": (["Peak", "Stride"], ["Yoga Mat", "Water Bottle", "Resistance Bands", "Trail Socks"], (8.0, 95.0)),
}
CAMPAIGN_NAMES = [
    ("NEWYEAR24", "New Year Sale", "email", 0.15, (0, 14)),
    ("LUNAR24", "Lunar New Year", "social", 0.12, (30, 50)),
    ("VDAY24", "Valentine's Day", "social", 0.10, (38, 46)),
    ("PAYDAY", "Payday Flash Sale", "push", 0.08, (0, 90)),
    ("RAMADAN24", "Ramadan Deals", "email", 0.18, (70, 90)),
    ("WELCOME10", "Welcome Offer", "onsite", 0.10, (0, 90)),
]
ORDER_CHANNELS = [("web", 45), ("mobile_app", 40), ("marketplace", 15)]
DEVICES = [("mobile", 60), ("desktop", 32), ("tablet", 8)]
PAYMENT_METHODS = [("card", 45), ("e_wallet", 30), ("bank_transfer", 15), ("cod", 10)]
REVIEW_TITLES = {
    1: ["Broke after a week", "Not as described"],
    2: ["Disappointing", "Meh"],
    3: ["Okay for the price", "Average"],
    4: ["Good value", "Happy with it", "Works well"],
    5: ["Love it!", "Excellent quality", "Exactly what I needed"],
}


def pick(rng: random.Random, weighted):
    """Weighted choice over [(value, weight, ...), ...] -> value."""
    total = sum(w[1] for w in weighted)
    r = rng.uniform(0, total)
    acc = 0.0
    for item in weighted:
        acc += item[1]
        if r <= acc:
            return item[0]
    return weighted[-1][0]


class Picker:
    """pick() over a fixed weighted list, O(log n) per draw, same results as pick()."""

    def __init__(self, weighted):
        self.values = [w[0] for w in weighted]
        self.cum = []
        acc = 0.0
        for w in weighted:
            acc += w[1]
            self.cum.append(acc)
        self.total = sum(w[1] for w in weighted)

    def __call__(self, rng: random.Random):
        r = rng.uniform(0, self.total)
        i = bisect.bisect_left(self.cum, r)
        return self.values[min(i, len(self.values) - 1)]


def ts_str(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")


# Evening-heavy shopping pattern.
HOUR_PICKER = Picker([(h, 1 + (4 if 18 <= h <= 22 else 0) + (2 if 11 <= h <= 14 else 0)) for h in range(24)])


def rand_time(rng: random.Random, day: dt.date) -> dt.datetime:
    hour = HOUR_PICKER(rng)
    return dt.datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60))


def rand_day(rng: random.Random) -> dt.date:
    # Mild growth over the quarter plus weekend peaks.
    while True:
        d = rng.randrange(DAYS)
        day = START + dt.timedelta(days=d)
        weight = 0.7 + 0.3 * d / DAYS + (0.25 if day.weekday() >= 5 else 0.0)
        if rng.random() * 1.25 <= weight:
            return day


def money(x: float) -> float:
    return round(x + 1e-9, 2)


# --------------------------------------------------------------------------------------
# table builders (pure: return lists of dicts)
# --------------------------------------------------------------------------------------

def build_customers(scale: int, seed: int):
    rng = random.Random(f"{seed}:customers")
    n = BASE["customers"] * scale
    rows = []
    for i in range(1, n + 1):
        cid = f"CUST-{i:05d}"
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        country = pick(rng, COUNTRIES)
        cities = next(c[2] for c in COUNTRIES if c[0] == country)
        email = f"{first}.{last}{i}@example.com".lower()
        r = rng.random()
        if r < 0.07:
            email = None
        elif r < 0.15:
            email = "  " + email.upper() + " "  # messy CRM input, cleaned downstream
        signup = dt.date(2022, 6, 1) + dt.timedelta(days=rng.randrange((AS_OF - dt.date(2022, 6, 1)).days - 10))
        updated = dt.datetime.combine(max(signup, START - dt.timedelta(days=30)), dt.time()) + dt.timedelta(
            days=rng.randrange(0, 60), seconds=rng.randrange(86400))
        row = {
            "customer_id": cid,
            "first_name": first,
            "last_name": last,
            "email": email,
            "country": country,
            "city": rng.choice(cities),
            "segment": pick(rng, SEGMENTS),
            "signup_date": signup.isoformat(),
            "marketing_opt_in": "true" if rng.random() < 0.55 else "false",
            "updated_at": ts_str(updated),
        }
        rows.append(row)
        if rng.random() < 0.12:  # an older CRM version of the same customer
            old = dict(row)
            old["city"] = rng.choice(cities)
            old["email"] = None if rng.random() < 0.5 else row["email"]
            old["segment"] = "consumer"
            old["updated_at"] = ts_str(updated - dt.timedelta(days=rng.randrange(20, 200)))
            rows.append(old)
    rng.shuffle(rows)
    return rows


def build_campaigns(scale: int, seed: int):
    rng = random.Random(f"{seed}:campaigns")
    rows = []
    for i in range(BASE["campaigns"] * scale):
        code, name, channel, pct, (a, b) = CAMPAIGN_NAMES[i % len(CAMPAIGN_NAMES)]
        if i >= len(CAMPAIGN_NAMES):
            k = i // len(CAMPAIGN_NAMES)
            code, name = f"{code}-{k:03d}", f"{name} #{k}"
            pct = money(pct + rng.choice([-0.03, 0.0, 0.02, 0.05]))
        rows.append({
            "campaign_code": code,
            "campaign_name": name,
            "channel": channel,
            "discount_pct": pct,
            "starts_on": (START + dt.timedelta(days=a)).isoformat(),
            "ends_on": (START + dt.timedelta(days=b)).isoformat(),
        })
    return rows


def build_products(scale: int, seed: int):
    rng = random.Random(f"{seed}:products")
    cats = sorted(CATEGORIES)
    rows = []
    for i in range(1, BASE["products"] * scale + 1):
        cat = cats[(i - 1) % len(cats)]
        brands, names, (lo, hi) = CATEGORIES[cat]
        brand = rng.choice(brands)
        base_name = rng.choice(names)
        price = money(rng.uniform(lo, hi)) - 0.01
        price = money(max(price, 1.99))
        rows.append({
            "product_id": f"P-{i:04d}",
            "sku": f"{cat[:3].upper()}-{brand[:3].upper()}-{i:05d}",
            "product_name": f"{brand} {base_name}",
            "category": cat,
            "brand": None if rng.random() < 0.06 else brand,
            "unit_price": price,
            "unit_cost": money(price * rng.uniform(0.45, 0.7)),
            "is_active": rng.random() > 0.08,
            "launched_at": dt.date(2021, 1, 1) + dt.timedelta(days=rng.randrange(1000)),
        })
    return rows


def build_orders(scale: int, seed: int, customers, products, campaigns):
    """Returns (orders_rows_with_versions, order_items_rows, payments_rows)."""
    rng = random.Random(f"{seed}:orders")
    cust_ids = sorted({c["customer_id"] for c in customers})
    cust_country = {}
    for c in sorted(customers, key=lambda r: r["updated_at"]):
        cust_country[c["customer_id"]] = c["country"]
    # Some customers are much more active than others (power-law-ish weights).
    pick_customer = Picker([(cid, 1.0 / (1 + (k % 17)) ** 0.6) for k, cid in enumerate(cust_ids)])
    discount_pct = {c["campaign_code"]: c["discount_pct"] for c in campaigns}
    active_by_day: dict = {}
    n = BASE["orders"] * scale
    versions, items, payments = [], [], []
    item_seq = 0
    pay_seq = 0
    # Order ids increase with the order timestamp, like a real sequence.
    placed_times = sorted(rand_time(rng, rand_day(rng)) for _ in range(n))
    for i, placed in enumerate(placed_times, start=1):
        oid = f"ORD-{i:06d}"
        day = placed.date()
        guest = rng.random() < 0.03
        cid = None if guest else pick_customer(rng)
        country = cust_country.get(cid) if cid else pick(rng, COUNTRIES)
        if rng.random() < 0.05:
            country = pick(rng, COUNTRIES)  # shipped abroad
        if day not in active_by_day:
            active_by_day[day] = [c["campaign_code"] for c in campaigns
                                  if c["starts_on"] <= day.isoformat() <= c["ends_on"]]
        active_codes = active_by_day[day]
        code = rng.choice(active_codes) if active_codes and rng.random() < 0.3 else None
        final = pick(rng, [("delivered", 70), ("shipped", 12), ("cancelled", 10), ("returned", 5), ("placed", 3)])
        if day > AS_OF - dt.timedelta(days=3) and final == "delivered":
            final = "shipped"
        channel = pick(rng, ORDER_CHANNELS)
        base = {
            "order_id": oid,
            "customer_id": cid,
            "order_ts": ts_str(placed),
            "status": "placed",
            "channel": channel,
            "shipping_country": country,
            "discount_code": code,
            "updated_at": ts_str(placed + dt.timedelta(minutes=rng.randrange(1, 30))),
        }
        if final == "placed" or rng.random() < 0.85:
            # Only the latest version survived in the export.
            row = dict(base)
            row["status"] = final
            if final != "placed":
                row["updated_at"] = ts_str(placed + dt.timedelta(hours=rng.randrange(2, 96)))
            versions.append(row)
        else:
            # Status-update duplicates: both versions are in the export.
            versions.append(base)
            later = dict(base)
            later["status"] = final
            later["updated_at"] = ts_str(placed + dt.timedelta(hours=rng.randrange(2, 120)))
            versions.append(later)
        # order lines
        n_items = pick(rng, [(1, 45), (2, 30), (3, 17), (4, 8)])
        chosen = rng.sample(products, n_items)
        total = 0.0
        for p in chosen:
            item_seq += 1
            qty = pick(rng, [(1, 70), (2, 20), (3, 7), (5, 3)])
            unit = p["unit_price"]
            disc = None
            if code:
                pct = discount_pct[code]
                disc = money(qty * unit * pct)
            elif rng.random() < 0.05:
                disc = 0.0
            items.append({
                "order_item_id": item_seq,
                "order_id": oid,
                "product_id": p["product_id"],
                "quantity": qty,
                "unit_price": unit,
                "discount_amount": disc,
            })
            total += qty * unit - (disc or 0.0)
        if final != "placed":
            pay_seq += 1
            method = pick(rng, PAYMENT_METHODS)
            pstatus = "captured"
            if final == "cancelled":
                pstatus = rng.choice(["failed", "refunded"])
            elif final == "returned":
                pstatus = "refunded"
            payments.append((
                f"PAY-{pay_seq:06d}", oid, ts_str(placed + dt.timedelta(minutes=rng.randrange(1, 90))),
                method, money(total), "IDR" if country == "ID" else "USD", pstatus,
            ))
    # export order is by update time, like a CDC dump
    versions.sort(key=lambda r: (r["updated_at"], r["order_id"]))
    return versions, items, payments


def build_web_events(scale: int, seed: int, customers, products):
    rng = random.Random(f"{seed}:web_events")
    cust_ids = sorted({c["customer_id"] for c in customers})
    prod_ids = [p["product_id"] for p in products]
    events = []
    seq = 0
    starts = sorted(rand_time(rng, rand_day(rng)) for _ in range(BASE["sessions"] * scale))
    for s, t in enumerate(starts, start=1):
        sid = f"S-{s:06d}"
        cid = rng.choice(cust_ids) if rng.random() < 0.72 else None
        device = pick(rng, DEVICES)
        funnel = ["page_view"]
        n_views = pick(rng, [(0, 15), (1, 40), (2, 30), (3, 15)])
        funnel += ["product_view"] * n_views
        if n_views and rng.random() < 0.45:
            funnel.append("add_to_cart")
            if rng.random() < 0.6:
                funnel.append("checkout_start")
                if cid and rng.random() < 0.7:
                    funnel.append("purchase")
        product = rng.choice(prod_ids)
        for etype in funnel:
            seq += 1
            t = t + dt.timedelta(seconds=rng.randrange(5, 240))
            if etype == "product_view":
                product = rng.choice(prod_ids)
            ingest = t + dt.timedelta(seconds=rng.randrange(1, 20))
            if rng.random() < 0.05:  # late arriving (offline app sync)
                ingest = t + dt.timedelta(days=rng.randrange(1, 4), seconds=rng.randrange(3600))
            ev = {
                "event_id": f"EV-{seq:07d}",
                "session_id": sid,
                "customer_id": cid,
                "event_type": etype,
                "product_id": None if etype in ("page_view", "checkout_start") else product,
                "page_url": {
                    "page_view": "/",
                    "product_view": f"/p/{product.lower()}",
                    "add_to_cart": "/cart",
                    "checkout_start": "/checkout",
                    "purchase": "/checkout/thank-you",
                }[etype],
                "device": device,
                "event_ts": ts_str(t),
                "ingested_at": ts_str(ingest),
            }
            events.append(ev)
            if rng.random() < 0.03:  # at-least-once delivery: re-sent later
                dup = dict(ev)
                dup["ingested_at"] = ts_str(ingest + dt.timedelta(minutes=rng.randrange(1, 180)))
                events.append(dup)
    events.sort(key=lambda e: (e["ingested_at"], e["event_id"]))
    return events


def build_reviews(scale: int, seed: int, customers, products):
    rng = random.Random(f"{seed}:reviews")
    cust_ids = sorted({c["customer_id"] for c in customers})
    rows = []
    for i in range(1, BASE["reviews"] * scale + 1):
        p = rng.choice(products)
        rating = pick(rng, [(5, 40), (4, 30), (3, 14), (2, 8), (1, 8)])
        day = rand_day(rng)
        rows.append({
            "review_id": f"R-{i:06d}",
            "product_id": p["product_id"],
            "customer_id": rng.choice(cust_ids),
            "rating": rating,
            "review_date": day.isoformat(),
            "title": rng.choice(REVIEW_TITLES[rating]),
            "verified_purchase": "true" if rng.random() < 0.8 else "false",
        })
    return rows


# --------------------------------------------------------------------------------------
# writers
# --------------------------------------------------------------------------------------

def write_csv(path: Path, rows, columns, delimiter=","):
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(columns)
    for r in rows:
        w.writerow(["" if r[c] is None else r[c] for c in columns])
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")


def write_json_array(path: Path, rows):
    body = ",\n".join(json.dumps(r, ensure_ascii=False) for r in rows)
    path.write_text("[\n" + body + "\n]\n", encoding="utf-8", newline="")


def write_jsonl(path: Path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8", newline="")


def write_parquet(path: Path, rows, schema):
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = {f.name: [r[f.name] for r in rows] for f in schema}
    table = pa.table(cols, schema=schema)
    pq.write_table(table, path, compression="snappy", use_dictionary=True,
                   write_statistics=True, row_group_size=1_000_000)


def write_sqlite(path: Path, payments):
    if path.exists():
        path.unlink()
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA page_size = 4096")
        con.execute("PRAGMA journal_mode = DELETE")
        con.execute(
            "CREATE TABLE payments ("
            " payment_id TEXT PRIMARY KEY,"
            " order_id TEXT NOT NULL,"
            " paid_at TEXT NOT NULL,"
            " payment_method TEXT NOT NULL,"
            " amount REAL NOT NULL,"
            " currency TEXT NOT NULL,"
            " payment_status TEXT NOT NULL)"
        )
        con.executemany("INSERT INTO payments VALUES (?, ?, ?, ?, ?, ?, ?)", payments)
        con.commit()
    finally:
        con.close()


def generate(out: Path, scale: int = 1, seed: int = DEFAULT_SEED) -> dict:
    """Write all data files into `out`; returns {file: row_count}."""
    import pyarrow as pa

    if scale < 1:
        raise ValueError("--scale must be >= 1")
    out.mkdir(parents=True, exist_ok=True)
    customers = build_customers(scale, seed)
    campaigns = build_campaigns(scale, seed)
    products = build_products(scale, seed)
    orders, items, payments = build_orders(scale, seed, customers, products, campaigns)
    events = build_web_events(scale, seed, customers, products)
    reviews = build_reviews(scale, seed, customers, products)

    write_csv(out / "customers.csv", customers,
              ["customer_id", "first_name", "last_name", "email", "country", "city", "segment",
               "signup_date", "marketing_opt_in", "updated_at"], delimiter=";")
    write_csv(out / "campaigns.csv", campaigns,
              ["campaign_code", "campaign_name", "channel", "discount_pct", "starts_on", "ends_on"])
    write_parquet(out / "products.parquet", products, pa.schema([
        ("product_id", pa.string()), ("sku", pa.string()), ("product_name", pa.string()),
        ("category", pa.string()), ("brand", pa.string()), ("unit_price", pa.float64()),
        ("unit_cost", pa.float64()), ("is_active", pa.bool_()), ("launched_at", pa.date32()),
    ]))
    write_parquet(out / "order_items.parquet", items, pa.schema([
        ("order_item_id", pa.int64()), ("order_id", pa.string()), ("product_id", pa.string()),
        ("quantity", pa.int32()), ("unit_price", pa.float64()), ("discount_amount", pa.float64()),
    ]))
    write_json_array(out / "orders.json", orders)
    write_jsonl(out / "web_events.jsonl", events)
    write_csv(out / "product_reviews.csv", reviews,
              ["review_id", "product_id", "customer_id", "rating", "review_date", "title",
               "verified_purchase"])
    write_sqlite(out / "shop.sqlite", payments)
    return {
        "customers.csv": len(customers), "campaigns.csv": len(campaigns),
        "products.parquet": len(products), "order_items.parquet": len(items),
        "orders.json": len(orders), "web_events.jsonl": len(events),
        "product_reviews.csv": len(reviews), "shop.sqlite": len(payments),
    }


# --------------------------------------------------------------------------------------
# check / project copy
# --------------------------------------------------------------------------------------

def _logical(path: Path):
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq
        t = pq.read_table(path)
        return (str(t.schema), t.to_pylist())
    if path.suffix == ".sqlite":
        con = sqlite3.connect(path)
        try:
            return list(con.iterdump())
        finally:
            con.close()
    return path.read_bytes()


def check(expected_dir: Path, seed: int, strict: bool) -> int:
    ok = True
    with tempfile.TemporaryDirectory(prefix="shopline-check-") as tmp:
        generate(Path(tmp), 1, seed)
        for name in DATA_FILES:
            exp, got = expected_dir / name, Path(tmp) / name
            if not exp.exists():
                print(f"MISSING  {name} (not in {expected_dir})")
                ok = False
            elif filecmp.cmp(exp, got, shallow=False):
                print(f"OK       {name}")
            elif not strict and exp.suffix in (".parquet", ".sqlite") and _logical(exp) == _logical(got):
                print(f"OK*      {name} (same content; bytes differ, e.g. library version string)")
            else:
                print(f"DIFFERS  {name}")
                ok = False
    return 0 if ok else 1


def copy_project(dest: Path, scale: int, seed: int) -> dict:
    if dest.exists() and any(dest.iterdir()):
        raise SystemExit(f"--project-out {dest} exists and is not empty")
    ignore = shutil.ignore_patterns("target", "data", "__pycache__", "*.pyc", ".venv*")
    shutil.copytree(HERE, dest, ignore=ignore, dirs_exist_ok=True)
    return generate(dest / "data", scale, seed)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=int, default=1, help="row multiplier (default 1)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--out", type=Path, default=None,
                    help=f"data directory to write (default {DEFAULT_DATA_DIR})")
    ap.add_argument("--project-out", type=Path, default=None,
                    help="copy the whole sample project to DIR with data at --scale")
    ap.add_argument("--check", action="store_true",
                    help="regenerate scale 1 into a temp dir and compare with the committed data")
    ap.add_argument("--strict", action="store_true", help="with --check: require identical bytes")
    args = ap.parse_args(argv)

    if args.check:
        return check(args.out or DEFAULT_DATA_DIR, args.seed, args.strict)
    if args.project_out:
        counts = copy_project(args.project_out, args.scale, args.seed)
        where = args.project_out
    else:
        where = args.out or DEFAULT_DATA_DIR
        counts = generate(where, args.scale, args.seed)
    total = sum((Path(where) / ("data" if args.project_out else "") / f).stat().st_size
                for f in DATA_FILES)
    for f, n in counts.items():
        print(f"{f:24s} {n:>9,d} rows")
    print(f"{'total':24s} {total:>9,d} bytes -> {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
