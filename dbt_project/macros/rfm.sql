{#-
  RFM scoring and segments (documented in models/marts/customers/mart_customer_rfm.yml and the
  project README).

  A score is the customer's quintile within their tenant by rank position: with customers ranked
  1..n from worst to best (ties share the lowest rank), score = 1 + floor(5 * (rank - 1) / n), so
  scores run 1..5 and customers with equal values always share a score.
-#}
{% macro rfm_score(order_by) -%}
    1 + {{ int_div(
        '5 * (rank() over (partition by tenant_id order by ' ~ order_by ~ ') - 1)',
        'count(*) over (partition by tenant_id)'
    ) }}
{%- endmacro %}


{#-
  The segment of an (R, FM) cell, FM being the mean of F and M rounded half up:

      R \ FM |  1               2                  3                  4             5
      -------+-------------------------------------------------------------------------------------
        5    |  New             Potential Loyalist Potential Loyalist Champions     Champions
        4    |  Promising       Potential Loyalist Potential Loyalist Loyal         Champions
        3    |  About to Sleep  About to Sleep     Need Attention     Loyal         Loyal
        2    |  Hibernating     Hibernating        At Risk            At Risk       Cannot Lose Them
        1    |  Lost            Lost               At Risk            At Risk       Cannot Lose Them
-#}
{% macro rfm_segment(r_score, fm_score) -%}
    case
        when {{ r_score }} = 5 and {{ fm_score }} >= 4 then 'Champions'
        when {{ r_score }} = 4 and {{ fm_score }} = 5 then 'Champions'
        when {{ r_score }} in (3, 4) and {{ fm_score }} >= 4 then 'Loyal'
        when {{ r_score }} >= 4 and {{ fm_score }} in (2, 3) then 'Potential Loyalist'
        when {{ r_score }} = 5 and {{ fm_score }} = 1 then 'New'
        when {{ r_score }} = 4 and {{ fm_score }} = 1 then 'Promising'
        when {{ r_score }} = 3 and {{ fm_score }} = 3 then 'Need Attention'
        when {{ r_score }} = 3 and {{ fm_score }} <= 2 then 'About to Sleep'
        when {{ r_score }} <= 2 and {{ fm_score }} = 5 then 'Cannot Lose Them'
        when {{ r_score }} <= 2 and {{ fm_score }} in (3, 4) then 'At Risk'
        when {{ r_score }} = 2 and {{ fm_score }} <= 2 then 'Hibernating'
        when {{ r_score }} = 1 and {{ fm_score }} <= 2 then 'Lost'
    end
{%- endmacro %}
