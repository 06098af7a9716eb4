"""What sqlfluff's jinja templater needs to render the models without dbt (see .sqlfluff,
``library_path``): every name here is a global of the templates it lints.

- ``dbt``: dbt's cross-database macros that the models call, rendering what dbt-duckdb
  renders (DuckDB is the dialect linted);
- ``target``: the DuckDB file mode's target;
- ``adapter.dispatch``: the project's ``default__`` implementation of a dispatched macro
  (macros/cross_engine.sql), as dbt picks it on DuckDB.

Only for linting: dbt never imports this package.
"""

from types import SimpleNamespace

from jinja2 import pass_context


class _CrossDatabaseMacros:
    @staticmethod
    def date_trunc(datepart, date):
        return f"date_trunc('{datepart}', {date})"

    @staticmethod
    def type_string():
        return "varchar"

    @staticmethod
    def any_value(expression):
        return f"any_value({expression})"

    @staticmethod
    def dateadd(datepart, interval, from_date_or_timestamp):
        return f"({from_date_or_timestamp} + cast({interval} as bigint) * interval 1 {datepart})"


class _Adapter:
    @pass_context
    def dispatch(self, context, macro_name, macro_namespace=None):
        return context.resolve(f"default__{macro_name}")


dbt = _CrossDatabaseMacros()
target = SimpleNamespace(type="duckdb", name="dev")
adapter = _Adapter()
