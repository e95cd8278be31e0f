# /// script
# requires-python = ">=3.10"
# dependencies = [
#     "pandas",
#     "duckdb",
# ]
# ///
"""Second-order aggregation declared in Python: the SOA engine aggregates the frame
returned by ctx.ref (Seeknal 2.13 takes the first ctx.ref target as the SOA source)."""
from seeknal.pipeline import second_order_aggregation


@second_order_aggregation(
    name="segment_order_metrics",
    id_col="segment",
    feature_date_col="order_date",
    application_date_col="application_date",
    description="Customer-day order metrics rolled up to the customer segment",
    owner="ml-platform@shopline.example",
    tags=["features", "segment"],
    features={
        "daily_amount": {"basic": ["sum", "mean", "max"]},
        "daily_units": {"window": [1, 30], "basic": ["sum"]},
        "daily_orders": {"basic": ["count"]},
    },
)
def segment_order_metrics(ctx):
    return ctx.ref("transform.customer_daily_orders")
