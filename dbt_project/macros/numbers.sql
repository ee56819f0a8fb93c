{#-
  Exact arithmetic for money and ratios. Amounts stay integers of minor units; an average of
  money is rounded half away from zero to a whole minor unit with integer arithmetic, and a ratio
  is a decimal rounded the same way to `scale` places. No float ever touches a total.
-#}

{#- Integer division of non-negative integers (rounds toward zero). -#}
{% macro int_div(numerator, denominator) -%}
    {{ return(adapter.dispatch('int_div', 'shoplake')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__int_div(numerator, denominator) -%}
    cast(floor(({{ numerator }}) / ({{ denominator }})) as {{ dbt.type_bigint() }})
{%- endmacro %}

{% macro duckdb__int_div(numerator, denominator) -%}
    (({{ numerator }}) // ({{ denominator }}))
{%- endmacro %}


{#- round(numerator * 10^scale / denominator) half away from zero, as an integer; NULL when the
    denominator is 0 or NULL. Denominators are counts or amounts, never negative. -#}
{% macro scaled_quotient(numerator, denominator, scale=0) -%}
    case
        when ({{ denominator }}) > 0 then
            sign({{ numerator }}) * {{ int_div(
                '2 * abs(' ~ numerator ~ ') * ' ~ (10 ** scale) ~ ' + (' ~ denominator ~ ')',
                '2 * (' ~ denominator ~ ')'
            ) }}
    end
{%- endmacro %}


{#- An average amount in whole minor units (e.g. average order value). -#}
{% macro minor_average(total_minor, count) -%}
    cast({{ scaled_quotient(total_minor, count, 0) }} as {{ dbt.type_bigint() }})
{%- endmacro %}


{#- numerator / denominator as decimal(18, scale), rounded half away from zero. -#}
{% macro ratio(numerator, denominator, scale=4) -%}
    cast(
        cast({{ scaled_quotient(numerator, denominator, scale) }} as decimal(18, 0))
        * cast({{ '1' if scale == 0 else '0.' ~ ('0' * (scale - 1)) ~ '1' }} as decimal(18, {{ scale }}))
        as decimal(18, {{ scale }})
    )
{%- endmacro %}



{#- sum() of integers as a 64-bit integer (DuckDB widens integer sums to 128 bits). -#}
{% macro int_sum(expression) -%}
    cast(sum({{ expression }}) as {{ dbt.type_bigint() }})
{%- endmacro %}
