"""The statements the delivery loop runs for every send, written without the ORM's work
per query.

Building an ``UPDATE`` or an ``INSERT`` through a QuerySet costs about 0.5 ms of CPU (the
query's tree, its compiler), the same as the rest of a send together; a worker sends
hundreds a second (bench/actions.py). These write the same SQL the ORM would, with each
value prepared by its model field (``get_db_prep_save``: aware datetimes become what the
database stores, a model instance its primary key), on the default connection, inside
whatever transaction the caller holds.
"""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connections, models, transaction


def _prepared(connection, model: type[models.Model], values: dict) -> tuple[list[str], list]:
    columns, params = [], []
    quote = connection.ops.quote_name
    for name, value in values.items():
        field = model._meta.get_field(name)
        if isinstance(value, models.Model):
            value = value.pk
        columns.append(quote(field.column))
        params.append(field.get_db_prep_save(value, connection))
    return columns, params


def _update_sql(connection, model, pk, where: dict, values: dict) -> tuple[str, list]:
    set_columns, set_params = _prepared(connection, model, values)
    where_columns, where_params = _prepared(connection, model, where)
    conditions = [f"{connection.ops.quote_name(model._meta.pk.column)} = %s"]
    conditions += [
        f"{column} IS NULL" if param is None else f"{column} = %s"
        for column, param in zip(where_columns, where_params, strict=True)
    ]
    sql = (
        f"UPDATE {connection.ops.quote_name(model._meta.db_table)}"  # noqa: S608 (our names)
        f" SET {', '.join(f'{column} = %s' for column in set_columns)}"
        f" WHERE {' AND '.join(conditions)}"
    )
    return sql, [*set_params, pk, *(p for p in where_params if p is not None)]


def _insert_sql(connection, model, values: dict) -> tuple[str, list]:
    columns, params = _prepared(connection, model, values)
    sql = (
        f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)}"  # noqa: S608
        f" ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    )
    return sql, params


def update_row(model: type[models.Model], pk: int, *, where: dict, values: dict) -> bool:
    """``UPDATE … SET values WHERE pk = pk AND each of where`` (equality); True when the
    row matched (the conditions make it an atomic transition: one caller wins)."""
    connection = connections[DEFAULT_DB_ALIAS]  # once: each access of ``db.connection`` costs
    sql, params = _update_sql(connection, model, pk, where, values)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount == 1


def insert_row(model: type[models.Model], values: dict) -> None:
    """``INSERT`` one row of ``values`` (the model's defaults are not applied: pass every
    column that has no database default)."""
    connection = connections[DEFAULT_DB_ALIAS]
    sql, params = _insert_sql(connection, model, values)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def insert_and_update(
    inserted: tuple[type[models.Model], dict],
    model: type[models.Model],
    pk: int,
    *,
    where: dict,
    values: dict,
) -> bool:
    """``insert_row(*inserted)`` and ``update_row(model, pk, …)`` together, all or nothing:
    on PostgreSQL one statement (the insert in a ``WITH``: one round trip and one commit,
    not four round trips), elsewhere in a transaction. The row is inserted whether or not
    the update matched. True when it matched."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        with transaction.atomic():
            insert_row(*inserted)
            return update_row(model, pk, where=where, values=values)
    insert_sql, insert_params = _insert_sql(connection, *inserted)
    update_sql, update_params = _update_sql(connection, model, pk, where, values)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH logged AS ({insert_sql}) {update_sql}", [*insert_params, *update_params]
        )
        return cursor.rowcount == 1
