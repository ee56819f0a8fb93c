{#-
  The raw zone as a relation, tolerant of what may not exist yet.

  `shop_source('refunds')` selects from the dbt source (so lineage and docs see it) and unions in
  an empty relation typed from the source's declared columns. Hence a column no landed file has
  yet reads as NULL, and an entity with no files at all (no refunds ever) is an empty relation
  instead of a "no files found" error. Paths come only from the source definition.
-#}
{% macro shop_source(table_name, source_name='shop_raw') -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if not execute -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set node = graph.sources['source.' ~ project_name ~ '.' ~ source_name ~ '.' ~ table_name] -%}
    {%- set empty = typed_empty_relation(node.columns.values()) -%}
    {%- if raw_files_exist(node) -%}
        ({{ union_by_name(empty, 'select * from ' ~ relation) }})
    {%- else -%}
        ({{ empty }})
    {%- endif -%}
{%- endmacro %}


{% macro typed_empty_relation(columns) -%}
    select
    {%- for column in columns %}
        cast(null as {{ column.data_type }}) as {{ adapter.quote(column.name) }}
        {%- if not loop.last %},{% endif %}
    {%- endfor %}
    where 1 = 0
{%- endmacro %}


{#- True when at least one file matches the source's glob (meta: raw_root + files). -#}
{% macro raw_files_exist(node) -%}
    {{ return(adapter.dispatch('raw_files_exist', 'shoplake')(node)) }}
{%- endmacro %}

{% macro duckdb__raw_files_exist(node) -%}
    {%- set pattern = node.meta.raw_root ~ '/' ~ node.name ~ '/' ~ node.meta.files -%}
    {%- set found = run_query("select count(*) from glob(" ~ dbt.string_literal(pattern) ~ ")") -%}
    {{ return(found.columns[0].values()[0] > 0) }}
{%- endmacro %}


{#- Union two queries matching columns by name; a column missing on one side reads as NULL. -#}
{% macro union_by_name(first_query, second_query) -%}
    {{ return(adapter.dispatch('union_by_name', 'shoplake')(first_query, second_query)) }}
{%- endmacro %}

{% macro duckdb__union_by_name(first_query, second_query) -%}
    {{ first_query }}
    union all by name
    {{ second_query }}
{%- endmacro %}


{#- The number of elements of a list column (0 for NULL). -#}
{% macro list_length(expression) -%}
    {{ return(adapter.dispatch('list_length', 'shoplake')(expression)) }}
{%- endmacro %}

{% macro duckdb__list_length(expression) -%}
    coalesce(len({{ expression }}), 0)
{%- endmacro %}


{#- One row per element of a list of structs, beside the relation's other columns (rows with an
    empty or NULL list vanish). Members are then read as `<element>.<member>`. -#}
{% macro unnest_list(relation, list_column, element, columns) -%}
    {{ return(adapter.dispatch('unnest_list', 'shoplake')(relation, list_column, element, columns)) }}
{%- endmacro %}

{% macro duckdb__unnest_list(relation, list_column, element, columns) -%}
    select
        {{ columns | join(', ') }},
        unnest({{ list_column }}) as {{ element }}
    from {{ relation }}
{%- endmacro %}
