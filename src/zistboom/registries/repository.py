"""The registry service's queries. Searches are SQL text built from checked field names (they
match ``^[a-z][a-z0-9_]*$``), with values always bound, so that each term's expression is
spelled exactly as in its index (ZB-STD-006 §8.11): PostgreSQL and SQLite only use an expression
index for the same expression, and a partial index only for a literal ``registry_id``."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from zistboom.registries.models import ChainHead, Change, Record, Registry, RegistryVersion, Usage
from zistboom.registries.query import EXACT_COUNT_LIMIT, Condition, Cursor, ListQuery, Term
from zistboom.registries.schema import Field

_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
NUMERIC_KINDS = frozenset({"number", "integer"})


def dialect_of(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


# --- registries and versions -----------------------------------------------------------------


async def find_registry(session: AsyncSession, code: str) -> Registry | None:
    found: Registry | None = await session.scalar(select(Registry).where(Registry.code == code))
    return found


async def list_registries(session: AsyncSession) -> list[Registry]:
    return list((await session.scalars(select(Registry).order_by(Registry.code))).all())


async def find_registry_by_id(session: AsyncSession, registry_id: int) -> Registry | None:
    return await session.get(Registry, registry_id)


async def versions_of(session: AsyncSession, registry: Registry) -> list[RegistryVersion]:
    rows = await session.scalars(
        select(RegistryVersion)
        .where(RegistryVersion.registry_id == registry.id)
        .order_by(RegistryVersion.id)
    )
    return list(rows.all())


async def published_version(
    session: AsyncSession, code: str, version: str
) -> tuple[Registry, RegistryVersion] | None:
    row = (
        await session.execute(
            select(Registry, RegistryVersion)
            .join(RegistryVersion, RegistryVersion.registry_id == Registry.id)
            .where(
                Registry.code == code,
                RegistryVersion.version == version,
                RegistryVersion.published_at.is_not(None),
            )
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


async def count_records(session: AsyncSession, registry_id: int) -> int:
    counted = await session.scalar(
        select(func.count()).select_from(Record).where(Record.registry_id == registry_id)
    )
    return int(counted or 0)


# --- term expressions and indexes ------------------------------------------------------------


def term_sql(dialect: str, field: Field, column: str = "terms") -> str:
    """The SQL expression of a field's term, exactly as its index spells it."""
    name = _checked(field.name)
    if dialect == "postgresql":
        if field.kind in NUMERIC_KINDS:
            return f"(({column} ->> '{name}')::numeric)"
        if field.kind == "boolean":
            return f"(({column} ->> '{name}')::boolean)"
        return f"(({column} ->> '{name}') COLLATE \"C\")"
    return f"json_extract({column}, '$.{name}')"


def _expression(dialect: str, field: Field, column: str) -> str:
    """A field as a condition reads it: the key from ``records.key`` (its unique index)."""
    if field.key and column == "terms":
        return "key"
    return term_sql(dialect, field, column)


def _checked(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"not a field name: {name!r}")
    return name


def object_name(prefix: str, registry_id: int, field_names: Sequence[str]) -> str:
    """``<prefix>_r<id>_<field>[_<field>…]``, or with a hash of it for the fields when longer
    than 63 characters (PostgreSQL cuts names there, and two indexes would share one)."""
    name = f"{prefix}_r{int(registry_id)}_" + "_".join(_checked(n) for n in field_names)
    if len(name) > 63:
        name = f"{prefix}_r{int(registry_id)}_" + hashlib.sha256(name.encode()).hexdigest()[:16]
    return name


def index_name(registry_id: int, field_name: str, *, unique: bool) -> str:
    return object_name("ux" if unique else "ix", registry_id, [field_name])


async def create_index(
    session: AsyncSession, registry_id: int, field: Field, *, unique: bool
) -> None:
    """A partial expression index for one field of one registry: unique ones enforce
    ``x-unique``, the others serve filters and ordering (with the key, for keyset paging)."""
    dialect = dialect_of(session)
    name = index_name(registry_id, field.name, unique=unique)
    expression = term_sql(dialect, field)
    columns = expression if unique else f"{expression}, key"
    kind = "UNIQUE INDEX" if unique else "INDEX"
    await session.execute(
        text(
            f"CREATE {kind} IF NOT EXISTS {name} ON records ({columns}) "
            f"WHERE registry_id = {int(registry_id)}"
        )
    )


async def create_compound_index(
    session: AsyncSession, registry_id: int, fields: list[Field]
) -> None:
    """A partial index over several fields' terms in order, then the key (``x-search-indexes``):
    a prefix or range on the first with conditions on the next is one index range scan."""
    dialect = dialect_of(session)
    name = object_name("ix", registry_id, [f.name for f in fields])
    # The key as conditions read it (records.key); last unless the index names it.
    columns = [_expression(dialect, f, "terms") for f in fields]
    if "key" not in columns:
        columns.append("key")
    await session.execute(
        text(
            f"CREATE INDEX IF NOT EXISTS {name} ON records ({', '.join(columns)}) "
            f"WHERE registry_id = {int(registry_id)}"
        )
    )


async def create_statistics(session: AsyncSession, registry_id: int, field: Field) -> None:
    """PostgreSQL plans with no statistics for a partial index's expression: extended
    statistics on the term give it the distribution (ANALYZE fills them)."""
    if dialect_of(session) != "postgresql":
        return
    name = object_name("st", registry_id, [field.name])
    await session.execute(
        text(
            f"CREATE STATISTICS IF NOT EXISTS {name} ON ({term_sql('postgresql', field)}) "
            "FROM records"
        )
    )


async def analyze(session: AsyncSession) -> None:
    """Fresh planner statistics after a bulk load or new indexes."""
    if dialect_of(session) == "postgresql":
        await session.execute(text("ANALYZE records"))
    else:
        await session.execute(text("ANALYZE"))


async def create_prefix_index(session: AsyncSession, registry_id: int, field: Field) -> None:
    """PostgreSQL's ``text_pattern_ops`` index is not needed: prefixes are ranges over the
    ``COLLATE "C"`` term, which the plain index serves on both databases."""
    await create_index(session, registry_id, field, unique=False)


# --- records ---------------------------------------------------------------------------------


async def content_by_key(
    session: AsyncSession, registry_id: int, key: str
) -> dict[str, Any] | None:
    """A record's content by its key: one indexed row, through SQLAlchemy's compiled-statement
    cache and without the ORM (the hot path of read-by-key)."""
    row = (
        await session.execute(
            select(Record.content).where(Record.registry_id == registry_id, Record.key == key)
        )
    ).first()
    return _json(row[0]) if row is not None else None


async def get_record(session: AsyncSession, registry_id: int, key: str) -> Record | None:
    found: Record | None = await session.scalar(
        select(Record).where(Record.registry_id == registry_id, Record.key == key)
    )
    return found


@dataclass(frozen=True, slots=True)
class Found:
    key: str
    content: dict[str, Any]
    terms: dict[str, Any]


def _where(
    dialect: str,
    registry_id: int,
    fields: Mapping[str, Field],
    query: ListQuery,
    params: dict[str, Any],
    *,
    column: str = "terms",
) -> list[str]:
    clauses = [f"registry_id = {int(registry_id)}"]
    for index, condition in enumerate(query.conditions):
        clauses.append(
            _condition_sql(dialect, fields[condition.field], condition, index, params, column)
        )
    if query.search is not None:
        alternatives = []
        for index, name in enumerate(query.search_fields):
            lo, hi = f"s{index}lo", f"s{index}hi"
            params[lo], params[hi] = query.search, _next_prefix(query.search)
            expression = _expression(dialect, fields[name], column)
            alternatives.append(f"({expression} >= :{lo} AND {expression} < :{hi})")
        clauses.append("(" + " OR ".join(alternatives) + ")")
    return clauses


def _condition_sql(
    dialect: str,
    field: Field,
    condition: Condition,
    index: int,
    params: dict[str, Any],
    column: str,
) -> str:
    expression = _expression(dialect, field, column)
    name = f"c{index}"
    if condition.operator == "in":
        names = []
        for position, value in enumerate(condition.values):
            params[f"{name}_{position}"] = _bound(dialect, field, value)
            names.append(f":{name}_{position}")
        return f"{expression} IN ({', '.join(names)})"
    value = condition.values[0]
    if condition.operator == "prefix":
        params[f"{name}lo"], params[f"{name}hi"] = value, _next_prefix(str(value))
        return f"({expression} >= :{name}lo AND {expression} < :{name}hi)"
    params[name] = _bound(dialect, field, value)
    operator = {"eq": "=", "gte": ">=", "gt": ">", "lte": "<=", "lt": "<"}[condition.operator]
    return f"{expression} {operator} :{name}"


def _bound(dialect: str, field: Field, value: Term) -> Any:
    """PostgreSQL compares ``numeric`` terms with ``numeric`` values (asyncpg binds Decimal);
    SQLite's JSON numbers compare with Python numbers."""
    if dialect == "postgresql" and field.kind in NUMERIC_KINDS and isinstance(value, int | float):
        return Decimal(str(value))
    return value


def _next_prefix(prefix: str) -> str:
    """The smallest string greater than every string that starts with ``prefix``."""
    last = ord(prefix[-1])
    return prefix[:-1] + chr(min(last + 1, 0x10FFFF))


def _order(
    dialect: str, fields: Mapping[str, Field], query: ListQuery, column: str = "terms"
) -> tuple[str | None, bool]:
    """The order expression (None: the key) and whether the page is read backwards."""
    expression = None
    if query.order_field is not None:
        expression = term_sql(dialect, fields[query.order_field], column)
    backwards = query.cursor is not None and query.cursor.direction == "before"
    return expression, backwards


def _keyset(
    dialect: str,
    expression: str | None,
    cursor: Cursor,
    descending: bool,
    params: dict[str, Any],
    field: Field | None,
) -> str:
    """Rows after (or before) the cursor, in the order ``expression, key`` where a record
    without the field sorts as the greatest value (last going up, first going down): the
    order of the field's index read forwards or backwards."""
    larger = (cursor.direction == "after") != descending
    params["ck"] = cursor.key
    if expression is None:
        return f"key {'>' if larger else '<'} :ck"
    if cursor.value is None:
        if larger:
            return f"({expression} IS NULL AND key > :ck)"
        return f"({expression} IS NOT NULL OR key < :ck)"
    params["cv"] = _bound(dialect, field, cursor.value) if field is not None else cursor.value
    if larger:
        return f"({expression} > :cv OR ({expression} = :cv AND key > :ck) OR {expression} IS NULL)"
    return f"({expression} < :cv OR ({expression} = :cv AND key < :ck))"


async def list_page(
    session: AsyncSession, registry_id: int, fields: Mapping[str, Field], query: ListQuery
) -> list[Found]:
    """One page (``page_size`` + 1 rows, to tell whether there is another)."""
    dialect = dialect_of(session)
    params: dict[str, Any] = {}
    clauses = _where(dialect, registry_id, fields, query, params)
    expression, backwards = _order(dialect, fields, query)
    order_field = fields.get(query.order_field) if query.order_field else None
    if query.cursor is not None:
        clauses.append(
            _keyset(dialect, expression, query.cursor, query.descending, params, order_field)
        )
    descending = query.descending != backwards
    direction = "DESC" if descending else "ASC"
    order = f"key {direction}"
    if expression is not None:
        # NULLS as PostgreSQL's btree keeps them, spelled out for SQLite (which puts them first).
        nulls = "FIRST" if descending else "LAST"
        order = f"{expression} {direction} NULLS {nulls}, key {direction}"
    sql = (
        f"SELECT key, content, terms FROM records WHERE {' AND '.join(clauses)} "
        f"ORDER BY {order} LIMIT {int(query.page_size) + 1}"
    )
    rows = (await session.execute(text(sql), params)).all()
    found = [Found(row[0], _json(row[1]), _json(row[2])) for row in rows]
    return found


async def count_matching(
    session: AsyncSession, registry_id: int, fields: Mapping[str, Field], query: ListQuery
) -> tuple[int, bool]:
    """The number of matching records, exact up to 10,000; beyond, the planner's estimate
    (PostgreSQL) flagged as such."""
    dialect = dialect_of(session)
    params: dict[str, Any] = {}
    where = " AND ".join(_where(dialect, registry_id, fields, query, params))
    limit = EXACT_COUNT_LIMIT + 1
    counted = await session.scalar(
        text(f"SELECT count(*) FROM (SELECT 1 FROM records WHERE {where} LIMIT {limit}) AS m"),
        params,
    )
    exact = int(counted or 0)
    if exact <= EXACT_COUNT_LIMIT:
        return exact, True
    if dialect == "postgresql":
        plan = await session.scalar(
            text(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM records WHERE {where}"), params
        )
        document = orjson.loads(plan) if isinstance(plan, str | bytes) else plan
        estimate = int(document[0]["Plan"]["Plan Rows"])
        return max(estimate, limit), False
    total = await session.scalar(text(f"SELECT count(*) FROM records WHERE {where}"), params)
    return int(total or 0), True


async def find_by_content(
    session: AsyncSession,
    registry_id: int,
    fields: Mapping[str, Field],
    terms: Mapping[str, Term],
    *,
    limit: int,
) -> list[Found]:
    """Records whose terms equal all of ``terms`` (read, exists, update), at most ``limit``."""
    conditions = tuple(Condition(name, "eq", (value,)) for name, value in terms.items())
    query = ListQuery(conditions=conditions, page_size=limit - 1)
    return await list_page(session, registry_id, fields, query)


def _json(value: Any) -> dict[str, Any]:
    if isinstance(value, str | bytes):
        loaded: dict[str, Any] = orjson.loads(value)
        return loaded
    return dict(value)


async def insert_record(
    session: AsyncSession,
    registry_id: int,
    key: str,
    content: dict[str, Any],
    terms: dict[str, Any],
    at: datetime,
) -> None:
    session.add(
        Record(
            registry_id=registry_id,
            key=key,
            content=content,
            terms=terms,
            created_at=at,
            updated_at=at,
        )
    )
    await session.flush()


async def replace_record(
    session: AsyncSession,
    registry_id: int,
    key: str,
    content: dict[str, Any],
    terms: dict[str, Any],
    at: datetime,
) -> None:
    await session.execute(
        update(Record)
        .where(Record.registry_id == registry_id, Record.key == key)
        .values(content=content, terms=terms, updated_at=at)
    )


async def delete_record(session: AsyncSession, registry_id: int, key: str) -> None:
    await session.execute(
        delete(Record).where(Record.registry_id == registry_id, Record.key == key)
    )


async def drop_indexes(session: AsyncSession, registry_id: int) -> None:
    """The registry's own indexes (and PostgreSQL statistics), named by its id."""
    patterns = {"ix": f"ix\\_r{int(registry_id)}\\_%", "ux": f"ux\\_r{int(registry_id)}\\_%"}
    if dialect_of(session) == "postgresql":
        names = await session.scalars(
            text(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'records' "
                "AND (indexname LIKE :ix OR indexname LIKE :ux)"
            ),
            patterns,
        )
        statistics = await session.scalars(
            text("SELECT stxname FROM pg_statistic_ext WHERE stxname LIKE :st"),
            {"st": f"st\\_r{int(registry_id)}\\_%"},
        )
        for name in list(statistics):
            await session.execute(text(f'DROP STATISTICS IF EXISTS "{name}"'))
    else:
        names = await session.scalars(
            text(
                "SELECT name FROM sqlite_master WHERE type = 'index' "
                "AND (name LIKE :ix ESCAPE '\\' OR name LIKE :ux ESCAPE '\\')"
            ),
            patterns,
        )
    for name in list(names):
        await session.execute(text(f'DROP INDEX IF EXISTS "{name}"'))


async def delete_registry_rows(session: AsyncSession, registry: Registry) -> None:
    await drop_indexes(session, registry.id)
    await session.execute(delete(Record).where(Record.registry_id == registry.id))
    await session.execute(delete(RegistryVersion).where(RegistryVersion.registry_id == registry.id))
    await session.delete(registry)


async def duplicate_value(session: AsyncSession, registry_id: int, name: str) -> int | None:
    """How many records share the most shared stored value of a field (None: no two do)."""
    dialect = dialect_of(session)
    name = _checked(name)
    expression = (
        f"(content -> '{name}')"
        if dialect == "postgresql"
        else f"json_extract(content, '$.{name}')"
    )
    counted = await session.scalar(
        text(
            f"SELECT count(*) AS n FROM records WHERE registry_id = {int(registry_id)} "
            f"AND {expression} IS NOT NULL GROUP BY {expression} HAVING count(*) > 1 "
            "ORDER BY n DESC LIMIT 1"
        )
    )
    return int(counted) if counted else None


async def refresh_terms(
    session: AsyncSession,
    registry_id: int,
    terms_of: Callable[[dict[str, Any]], dict[str, Any]],
    *,
    batch: int = 1000,
) -> None:
    """Recompute every record's terms (a version searches a field no earlier one did)."""
    last = 0
    while True:
        rows = (
            await session.execute(
                select(Record.id, Record.content)
                .where(Record.registry_id == registry_id, Record.id > last)
                .order_by(Record.id)
                .limit(batch)
            )
        ).all()
        if not rows:
            return
        for row_id, content in rows:
            await session.execute(
                update(Record).where(Record.id == row_id).values(terms=terms_of(_json(content)))
            )
        last = rows[-1][0]


# --- the change log --------------------------------------------------------------------------


async def lock_chain_head(session: AsyncSession) -> ChainHead:
    """The chain's head row, locked until the transaction ends (created on first use)."""
    statement = select(ChainHead).where(ChainHead.id == 1)
    if dialect_of(session) == "postgresql":
        statement = statement.with_for_update()
    head: ChainHead | None = await session.scalar(statement)
    if head is None:
        head = ChainHead(id=1, seq=0, hash="0" * 64)
        session.add(head)
        await session.flush()
    return head


async def chain_head(session: AsyncSession) -> ChainHead | None:
    return await session.get(ChainHead, 1)


async def append_change(session: AsyncSession, change: Change) -> None:
    session.add(change)
    await session.flush()


async def all_changes(session: AsyncSession, *, batch: int = 1000) -> AsyncIterator[Change]:
    last = 0
    while True:
        rows = (
            await session.scalars(
                select(Change).where(Change.seq > last).order_by(Change.seq).limit(batch)
            )
        ).all()
        if not rows:
            return
        for row in rows:
            yield row
        last = rows[-1].seq


async def record_as_of(
    session: AsyncSession, registry_id: int, key: str, at: datetime
) -> Change | None:
    """The last change to the record made at or before ``at``."""
    found: Change | None = await session.scalar(
        select(Change)
        .where(Change.registry_id == registry_id, Change.record_key == key, Change.at <= at)
        .order_by(Change.seq.desc())
        .limit(1)
    )
    return found


async def states_as_of(
    session: AsyncSession, registry_id: int, at: datetime, *, after_key: str | None, limit: int
) -> list[tuple[str, dict[str, Any] | None]]:
    """Each of the next ``limit`` records in key order after ``after_key`` with its state at
    ``at`` (None: deleted by then, or not yet created). The keys come from
    ``ix_changes_record`` in order and each state is one index probe, so a page costs its own
    records, not the whole change log."""
    keys = select(Change.record_key).where(Change.registry_id == registry_id)
    if after_key is not None:
        keys = keys.where(Change.record_key > after_key)
    chosen = list(
        (
            await session.scalars(
                keys.group_by(Change.record_key).order_by(Change.record_key).limit(limit)
            )
        ).all()
    )
    if not chosen:
        return []
    earlier = aliased(Change)
    last = (
        select(func.max(earlier.seq))
        .where(
            earlier.registry_id == Change.registry_id,
            earlier.record_key == Change.record_key,
            earlier.at <= at,
        )
        .scalar_subquery()
    )
    rows = await session.scalars(
        select(Change)
        .where(Change.registry_id == registry_id, Change.record_key.in_(chosen))
        .where(Change.seq == last)
        .order_by(Change.record_key)
    )
    found = {row.record_key: row.after for row in rows.all()}
    return [(key, found.get(key)) for key in chosen]


# --- the personal-data-usage log ---------------------------------------------------------


USAGE_BUFFER = "usage-buffer"


async def insert_usage(session: AsyncSession, entries: Iterable[Usage]) -> None:
    """One INSERT (executemany) without the ORM's unit of work: the hot path of every read.
    In a group commit (``session.info`` holds a buffer) the rows wait for the group's one
    INSERT, made before the shared transaction commits."""
    rows = [{column: getattr(entry, column) for column in USAGE_COLUMNS} for entry in entries]
    buffer: list[dict[str, Any]] | None = session.info.get(USAGE_BUFFER)
    if buffer is not None:
        buffer.extend(rows)
    elif rows:
        await session.execute(insert(Usage), rows)


async def flush_usage(session: AsyncSession) -> None:
    rows: list[dict[str, Any]] = session.info.pop(USAGE_BUFFER, None) or []
    if rows:
        await session.execute(insert(Usage), rows)


USAGE_COLUMNS = (
    "at", "subject", "registry_code", "record_key", "fields", "client", "user_id", "purpose",
    "message_id",
)  # fmt: skip


async def usage_of(
    session: AsyncSession,
    subject: str,
    *,
    since: datetime | None,
    until: datetime | None,
    after_id: int | None,
    limit: int,
) -> list[Usage]:
    statement = select(Usage).where(Usage.subject == subject)
    if since is not None:
        statement = statement.where(Usage.at >= since)
    if until is not None:
        statement = statement.where(Usage.at < until)
    if after_id is not None:
        statement = statement.where(Usage.id > after_id)
    rows = await session.scalars(statement.order_by(Usage.id).limit(limit))
    return list(rows.all())
