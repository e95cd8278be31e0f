# /// script
# requires-python = ">=3.10"
# dependencies = [
#     "pandas",
#     "pyarrow",
#     "duckdb",
# ]
# ///
"""Product review pipeline written with Seeknal's Python decorators.

Seeknal 2.13 runs @source and @second_order_aggregation nodes in-process (the function
body is not executed) and @transform / @feature_group nodes in a `uv run` subprocess.
"""
from seeknal.pipeline import feature_group, source, transform
from seeknal.pipeline.decorators import materialize


@source(
    name="product_reviews",
    source="csv",
    table="data/product_reviews.csv",
    tags=["raw", "reviews"],
    columns={"rating": "Star rating 1-5", "verified_purchase": "Reviewer bought the product"},
)
def product_reviews(ctx=None):
    """Loaded by Seeknal's source executor; the body is not executed."""


@transform(
    name="product_review_stats",
    inputs=["source.product_reviews"],
    tags=["reviews", "mart"],
    min_reviews=1,
)
@materialize(
    type="postgresql",
    connection="warehouse_pg",
    table="analytics.product_review_stats",
    mode="upsert_by_key",
    unique_keys=["product_id", "review_week"],
)
@materialize(type="iceberg", table="lakehouse.marts.product_review_stats", mode="overwrite")
def product_review_stats(ctx):
    reviews = ctx.ref("source.product_reviews")
    min_reviews = int(ctx.get_param("min_reviews", 1))
    return ctx.duckdb.sql(
        f"""
        SELECT
            product_id,
            CAST(date_trunc('week', CAST(review_date AS DATE)) AS DATE) AS review_week,
            COUNT(*) AS review_count,
            ROUND(AVG(rating), 3) AS avg_rating,
            COUNT(*) FILTER (WHERE rating <= 2) AS negative_reviews,
            COUNT(*) FILTER (WHERE verified_purchase) AS verified_reviews
        FROM reviews
        GROUP BY ALL
        HAVING COUNT(*) >= {min_reviews}
        ORDER BY product_id, review_week
        """
    ).df()


@feature_group(
    name="product_review_features",
    entity={"name": "product", "join_keys": ["product_id"]},
    features={
        "review_count": {"description": "Reviews in the week", "dtype": "int"},
        "avg_rating": {"description": "Mean star rating in the week", "dtype": "float"},
        "negative_share": {"description": "Share of 1-2 star reviews", "dtype": "float"},
    },
    tags=["features", "product"],
)
def product_review_features(ctx):
    stats = ctx.ref("transform.product_review_stats")
    return ctx.duckdb.sql(
        """
        SELECT
            product_id,
            CAST(review_week AS DATE) AS event_time,
            review_count,
            avg_rating,
            ROUND(negative_reviews / review_count, 4) AS negative_share
        FROM stats
        ORDER BY product_id, event_time
        """
    ).df()
