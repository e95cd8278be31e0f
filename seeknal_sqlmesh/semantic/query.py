"""A query request and its resolution against a `ResolvedManifest`: metric names, group-by names (`metric_time`,
`<entity>__<dimension>`, bare Seeknal names, `__<grain>` and `__extract_<part>` suffixes), filters, order, limit and
the time constraint. Unknown names fail with the nearest valid names.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass, field

from seeknal_sqlmesh.semantic import ir
from seeknal_sqlmesh.semantic.errors import QueryError, suggest
from seeknal_sqlmesh.semantic.filters import FilterError, ParsedFilter, parse_filter
from seeknal_sqlmesh.semantic.resolve import ResolvedManifest, split_grain


@dataclass
class QueryRequest:
    metrics: t.List[str] = field(default_factory=list)
    group_by: t.List[str] = field(default_factory=list)
    where: t.List[str] = field(default_factory=list)
    order_by: t.List[str] = field(default_factory=list)
    limit: t.Optional[int] = None
    time_constraint: t.Optional[t.Tuple[t.Any, t.Any]] = None


@dataclass(frozen=True)
class GroupBy:
    """A resolved query name. `canonical` is 'metric_time' or the element's identity '<model>.<name>' (the same for
    every measure model; each model reaches it along its own shortest join path)."""

    name: str  # as asked: the output column
    canonical: str
    kind: str  # metric_time | time | dimension | entity
    grain: t.Optional[str] = None
    date_part: t.Optional[str] = None

    @property
    def is_time(self) -> bool:
        return self.kind in ("metric_time", "time")


@dataclass(frozen=True)
class TimeRange:
    start: t.Optional[dt.datetime]
    end: t.Optional[dt.datetime]  # exclusive


@dataclass
class ResolvedQuery:
    metrics: t.List[t.Tuple[str, ir.Metric]]  # (name as asked, metric)
    group_by: t.List[GroupBy]
    where: t.List[t.Tuple[ParsedFilter, t.Dict[str, GroupBy]]]
    order_by: t.List[t.Tuple[str, bool]]  # (output name, descending)
    limit: t.Optional[int]
    time_range: t.Optional[TimeRange]
    models: t.List[str]  # models of the measures involved


def _as_list(value: t.Union[str, t.Sequence[t.Any], None]) -> t.List[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v).strip() for v in value if str(v).strip()]


def _parse_time(value: t.Any, what: str) -> t.Optional[dt.datetime]:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    try:
        return dt.datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise QueryError(f"{what} '{value}' is not a date or timestamp (YYYY-MM-DD[ HH:MM:SS])") from None


def truncate(value: dt.datetime, grain: str) -> dt.datetime:
    if grain == "hour":
        return value.replace(minute=0, second=0, microsecond=0)
    d = value.date()
    if grain == "week":
        d = d - dt.timedelta(days=d.weekday())
    elif grain == "month":
        d = d.replace(day=1)
    elif grain == "quarter":
        d = d.replace(month=3 * ((d.month - 1) // 3) + 1, day=1)
    elif grain == "year":
        d = d.replace(month=1, day=1)
    return dt.datetime(d.year, d.month, d.day)


def add_grain(value: dt.datetime, grain: str, n: int = 1) -> dt.datetime:
    if grain == "hour":
        return value + dt.timedelta(hours=n)
    if grain == "day":
        return value + dt.timedelta(days=n)
    if grain == "week":
        return value + dt.timedelta(weeks=n)
    months = {"month": 1, "quarter": 3, "year": 12}[grain] * n
    total = value.month - 1 + months
    year, month = value.year + total // 12, total % 12 + 1
    return value.replace(year=year, month=month, day=1)


class QueryResolver:
    def __init__(self, res: ResolvedManifest):
        self.res = res

    def metric(self, name: str) -> ir.Metric:
        key = self.res.metric_names.get(name)
        if key is None:
            raise QueryError(f"unknown metric '{name}'{suggest(name, self.res.metric_names)}")
        return self.res.metrics[key]

    def min_time_grain(self, models_measures: t.Sequence[ir.Measure]) -> str:
        grains = []
        for m in models_measures:
            dim = self.res.agg_time_dimension(m)
            if dim is None:
                raise QueryError(
                    f"measure '{m.name}' (semantic model '{m.model}') has no aggregation time dimension, so it "
                    "cannot be queried by metric_time; set default_time_dimension / defaults.agg_time_dimension"
                )
            grains.append(dim.grain)
        return max(grains, key=lambda g: ir.GRAIN_RANK[g]) if grains else "day"

    def name(self, name: str, models: t.Sequence[str], measures: t.Sequence[ir.Measure]) -> GroupBy:
        base, grain, part = split_grain(name)
        if base == "metric_time":
            if not measures:
                raise QueryError("metric_time needs at least one metric in the query")
            floor = self.min_time_grain(measures)
            if grain and ir.GRAIN_RANK[grain] < ir.GRAIN_RANK[floor]:
                raise QueryError(f"'{name}': the metrics' time dimension is only available at {floor} grain or coarser")
            return GroupBy(name, "metric_time", "metric_time", None if part else (grain or floor), part)
        if not models:
            raise QueryError(f"'{name}' cannot be resolved without a metric or semantic model")
        per_model = [self.res.candidates(m, base) for m in models]
        common = set(per_model[0])
        for cands in per_model[1:]:
            common &= set(cands)
        if not common:
            everything = self.res.all_names(models)
            if any(per_model):
                reach = [m for m, c in zip(models, per_model, strict=True) if c]
                miss = [m for m, c in zip(models, per_model, strict=True) if not c]
                raise QueryError(
                    f"'{name}' is reachable from semantic model(s) {', '.join(reach)} but not from "
                    f"{', '.join(miss)}, which the requested metrics also read"
                )
            raise QueryError(f"unknown dimension '{name}'{suggest(base, everything)}")
        ranked = sorted(common, key=lambda c: (max(cands[c].hops for cands in per_model), c))
        best = max(cands[ranked[0]].hops for cands in per_model)
        ties = [c for c in ranked if max(cands[c].hops for cands in per_model) == best]
        if len(ties) > 1:
            names = sorted(per_model[0][c].canonical for c in ties)
            raise QueryError(f"'{name}' is ambiguous: it may mean {', '.join(names)}; ask for one of these names")
        canonical = ranked[0]
        element = per_model[0][canonical]
        if element.kind == "ambiguous":
            raise QueryError(f"'{name}' is reachable through more than one join path from semantic model '{models[0]}'")
        if element.kind != "time":
            if grain or part:
                raise QueryError(f"'{name}': '{base}' is not a time dimension, so it has no grain or date part")
            return GroupBy(name, canonical, element.kind)
        dim = self.res.models[element.model].dimension(element.name)
        floor = dim.grain if dim is not None else "day"
        if grain and ir.GRAIN_RANK[grain] < ir.GRAIN_RANK[floor]:
            raise QueryError(f"'{name}': '{base}' is only available at {floor} grain or coarser")
        return GroupBy(name, canonical, "time", None if part else (grain or floor), part)

    def resolve(self, req: QueryRequest) -> ResolvedQuery:
        metric_names = _as_list(req.metrics)
        metrics = [(n, self.metric(n)) for n in metric_names]
        if len(set(metric_names)) != len(metric_names):
            raise QueryError("a metric is asked for twice")
        measures: t.List[ir.Measure] = []
        for _, m in metrics:
            measures += [x for x in self.res.measures_of(m.name) if x not in measures]
        models = list(dict.fromkeys(m.model for m in measures))
        names = _as_list(req.group_by)
        if len(set(names)) != len(names):
            raise QueryError("a group-by name is asked for twice")
        if not metrics:
            models = self._dimension_only_model(names, req)
        clash = set(names) & set(metric_names)
        if clash:
            raise QueryError(f"'{sorted(clash)[0]}' is asked for as a metric and as a group-by")
        group_by = [self.name(n, models, measures) for n in names]
        where = []
        for text in _as_list_keep(req.where):
            try:
                parsed = parse_filter(text)
            except FilterError as e:
                raise QueryError(str(e)) from None
            where.append((parsed, {n: self.name(n, models, measures) for n in parsed.names}))
        order_by = []
        outputs = names + metric_names
        for item in _as_list(req.order_by):
            desc = item.startswith("-")
            key = item[1:] if desc else item
            if key not in outputs:
                same = [g.name for g in group_by if g.canonical == key or split_grain(g.name)[0] == key]
                if len(same) != 1:
                    raise QueryError(
                        f"cannot order by '{key}': order by a metric or group-by of the query{suggest(key, outputs)}"
                    )
                key = same[0]
            order_by.append((key, desc))
        limit = req.limit
        if limit is not None:
            try:
                limit = int(limit)
            except (TypeError, ValueError):
                raise QueryError(f"limit '{req.limit}' is not a number") from None
            if limit < 0:
                raise QueryError("limit must be zero or positive")
        return ResolvedQuery(metrics, group_by, where, order_by, limit, self._time_range(req, group_by), models)

    def _time_range(self, req: QueryRequest, group_by: t.List[GroupBy]) -> t.Optional[TimeRange]:
        if not req.time_constraint:
            return None
        start = _parse_time(req.time_constraint[0], "start time")
        end = _parse_time(req.time_constraint[1], "end time")
        if start is None and end is None:
            return None
        if start and end and start > end:
            raise QueryError(f"start time {start} is after end time {end}")
        grains = [g.grain for g in group_by if g.kind == "metric_time" and g.grain]
        grain = max(grains, key=lambda g: ir.GRAIN_RANK[g]) if grains else "day"
        if start is not None:
            start = truncate(start, grain)
        if end is not None:  # inclusive end, widened to the end of its period
            end = add_grain(truncate(end, grain), grain)
        return TimeRange(start, end)

    def _dimension_only_model(self, names: t.List[str], req: QueryRequest) -> t.List[str]:
        if not names:
            raise QueryError("ask for at least one metric or group-by")
        best: t.Optional[t.Tuple[int, str]] = None
        for model in self.res.models:
            try:
                hops = 0
                for n in names:
                    g = self.name(n, [model], [])
                    element = self.res.element_for(model, g.canonical)
                    hops += element.hops if element is not None else 0
            except QueryError:
                continue
            if best is None or hops < best[0]:
                best = (hops, model)
        if best is None:
            raise QueryError(f"no semantic model reaches all of {', '.join(names)}")
        return [best[1]]


def _as_list_keep(value: t.Union[str, t.Sequence[t.Any], None]) -> t.List[str]:
    """Filters are not split on commas (`x IN ('a', 'b')`)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    return [str(v) for v in value if str(v).strip()]
