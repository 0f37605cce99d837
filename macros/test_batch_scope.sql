{#- Data tests scoped to the batch on incremental builds.

    dbt hands every generic data test its model through `get_where_subquery`; this project's version
    applies a test's own `where` config when it has one, and otherwise `test_batch_scope`: on an
    incremental build, a test of a large incremental Hatch model reads only the records of the
    build's batch: those whose chosen version was loaded after the previous build's newest load
    (`loaded_after` in `int_hatch__build_batches`).
    A key unique among the rows whose key is in the batch stays unique in a table that was unique
    before, since only those rows changed (so uniqueness of other columns is tested on every row);
    the same holds for set comparisons. Tests of single rows (not-null, accepted values,
    relationships) read just the batch's rows, by their `_loaded_at`. A full build (first build or --full-refresh: `loaded_after`
    is null) tests every row, and so does `--vars '{test_scope: all}'` (a scheduled full test pass).
    Tests that compare totals (`sum_equals_row_count`) always read everything. -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if not where -%}
        {%- set where = hatch_analytics.test_batch_scope(relation) -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- The relation `relation` as a test of the running build should read it: `relation` itself, or a
    subquery of its batch rows (for relations a test compares against, e.g. `same_values_as`). -#}
{% macro test_scoped_relation(relation) -%}
    {#- a staging view's batch is read from its materialization (the same rows): filtering the view
        would still rank every raw version first -#}
    {%- set twins = {
        'stg_hatch__conversation_items': 'int_hatch__messages',
        'stg_hatch__contact_history': 'int_hatch__contact_history'
    } -%}
    {%- if relation.identifier in twins -%}
        {%- set twin = hatch_analytics.graph_model_relation(twins[relation.identifier]) -%}
        {%- set where = hatch_analytics.test_batch_scope(twin) -%}
        {%- if where -%}
            {{ return('(select * from ' ~ twin ~ ' where ' ~ where ~ ') dbt_scoped') }}
        {%- endif -%}
    {%- endif -%}
    {%- set where = hatch_analytics.test_batch_scope(relation) -%}
    {%- if where -%}
        (select * from {{ relation }} where {{ where }}) dbt_scoped
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}

{#- The batch condition for a test of `relation`, or '' to test every row. -#}
{% macro test_batch_scope(relation) -%}
    {%- set metadata = model.test_metadata if model.test_metadata is defined and model.test_metadata else none -%}
    {%- set test_name = metadata.name if metadata is not none else none -%}
    {%- set kind = hatch_analytics.test_batch_kind(relation) -%}
    {%- if test_name not in [
        'unique', 'not_null', 'not_null_columns', 'accepted_values', 'relationships',
        'unique_combination_of_columns', 'same_values_as'
    ] or kind is none -%}
        {{ return('') }}
    {%- endif -%}
    {#- uniqueness is checked within the batch only for a key the batch is cut by (a duplicate of a
        batch row then has the same key, so it is in the batch too); other combinations are
        narrowed inside the test (`unique_combination_of_columns`, `test_batch_rows`) -#}
    {%- set batch_keys = {
        'message': ['message_id', 'status_event_id'],
        'contact_history': ['contact_history_id'],
        'conversation': ['conversation_id'],
        'hatch_conversation': ['conversation_key']
    } -%}
    {%- if test_name in ['unique', 'unique_combination_of_columns'] -%}
        {%- set kwargs = metadata.kwargs or {} -%}
        {%- set tested = kwargs.get('combination') or [kwargs.get('column_name')] -%}
        {%- if tested | select('in', batch_keys[kind]) | list | length == 0 -%}
            {{ return('') }}
        {%- endif -%}
    {%- endif -%}
    {#- a test of single rows (not null, accepted values, relationships) of an int_ or fct_ table
        reads the rows of the batch directly: a table's `_loaded_at` is its record's chosen load (a
        conversation's newest input), and the tables are appended in load order, so the scan skips
        older row groups by their min/max instead of probing every row's key. `same_values_as`
        compares the key sets of the batch rows of both sides the same way: a row the build should
        have replaced but did not keeps its old `_loaded_at`, so its key is missing from the batch
        side (caught), where a probe by key would have found it. A staging view is probed by key
        (below). -#}
    {%- if test_name in ['not_null', 'not_null_columns', 'accepted_values', 'relationships', 'same_values_as']
        and relation.identifier.startswith(('int_', 'fct_')) -%}
        {{ return(hatch_analytics.test_batch_rows(relation)) }}
    {%- endif -%}
    {#- the batch's records: those whose chosen version (or, for a conversation, newest input) was
        loaded after the previous build, i.e. the batch rows of the int table of their kind -#}
    {%- set batch_table = {
        'message': ('int_hatch__messages', 'message_id'),
        'contact_history': ('int_hatch__contact_history', 'contact_history_id'),
        'conversation': ('int_hatch__conversations', 'conversation_id'),
        'hatch_conversation': ('int_hatch__conversations', 'conversation_id')
    }[kind] -%}
    {%- set batch_relation = hatch_analytics.graph_model_relation(batch_table[0]) -%}
    {%- set batch_rows = hatch_analytics.test_batch_rows(batch_relation) -%}
    {%- if not batch_rows -%}
        {{ return('') }}
    {%- endif -%}
    {%- set batch_keys = 'select ' ~ batch_table[1] ~ ' from ' ~ batch_relation ~ ' where ' ~ batch_rows -%}
    {%- if kind == 'hatch_conversation' -%}
        {{ return("(platform <> 'hatch' or " ~ batch_table[1] ~ ' in (' ~ batch_keys ~ '))') }}
    {%- else -%}
        {{ return(batch_table[1] ~ ' in (' ~ batch_keys ~ ')') }}
    {%- endif -%}
{%- endmacro %}

{#- The kind of batch key `relation` (a relation of this project) is scoped by on an incremental
    build: 'message', 'contact_history', 'conversation', 'hatch_conversation'; none when its tests
    read every row (not one of the large incremental Hatch relations, not an incremental build
    being executed, or `test_scope` is `all`). -#}
{% macro test_batch_kind(relation) -%}
    {%- set scoped_relations = {
        'stg_hatch__conversation_items': 'message',
        'stg_hatch__message_status_events': 'message',
        'int_hatch__messages': 'message',
        'fct_messages': 'message',
        'stg_hatch__contact_history': 'contact_history',
        'int_hatch__contact_history': 'contact_history',
        'fct_contact_campaigns': 'contact_history',
        'int_hatch__conversations': 'conversation',
        'fct_conversations': 'hatch_conversation'
    } -%}
    {%- if not execute or var('test_scope', 'batch') == 'all' or relation.identifier is not defined -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(scoped_relations.get(relation.identifier)) }}
{%- endmacro %}

{#- The condition on the rows of `relation` (an int_ or fct_ table) that changed in this
    incremental build: `_loaded_at` after the previous build's newest load (for fct_conversations,
    also every row of the other platforms, which carry no Hatch load time); '' when every row is to
    be read (see `test_batch_kind`; a first or full build). -#}
{% macro test_batch_rows(relation) -%}
    {%- set kind = hatch_analytics.test_batch_kind(relation) -%}
    {%- if kind is none or not relation.identifier.startswith(('int_', 'fct_')) -%}
        {{ return('') }}
    {%- endif -%}
    {%- set loaded_after = hatch_analytics.build_batch_loaded_after() -%}
    {%- if loaded_after is none -%}
        {{ return('') }}
    {%- endif -%}
    {%- set rows = "_loaded_at > cast('" ~ loaded_after ~ "' as " ~ dbt.type_timestamp() ~ ")" -%}
    {{ return("(platform <> 'hatch' or " ~ rows ~ ")" if kind == 'hatch_conversation' else rows) }}
{%- endmacro %}

{#- `loaded_after` of the newest row of `int_hatch__build_batches` as 'YYYY-MM-DD HH:MM:SS.ffffff'
    (UTC); none when the table is missing or empty, or the build was a full one. Once that row is
    this invocation's own, the value cannot change before the invocation ends, so it is kept in the
    invocation's graph (one dict shared by every node's context) and the other tests of the build
    skip the query: about fifty of them each ran it. -#}
{% macro build_batch_loaded_after() -%}
    {%- set cache_key = '_hatch_build_batch_loaded_after' -%}
    {%- set cached = graph.get(cache_key) -%}
    {%- if cached is not none and cached[0] == invocation_id -%}
        {{ return(cached[1]) }}
    {%- endif -%}
    {%- set node = graph.nodes.get('model.hatch_analytics.int_hatch__build_batches') -%}
    {%- set existing = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) -%}
    {%- if existing is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set result = run_query(
        'select loaded_after, invocation_id from ' ~ existing ~ ' order by built_at desc limit 1'
    ) -%}
    {%- if result | length == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set loaded_after = none if result.rows[0][0] is none
        else result.rows[0][0].strftime('%Y-%m-%d %H:%M:%S.%f') -%}
    {%- if result.rows[0][1] == invocation_id -%}
        {%- do graph.update({cache_key: (invocation_id, loaded_after)}) -%}
    {%- endif -%}
    {{ return(loaded_after) }}
{%- endmacro %}

{#- The relation of a model of this project, from the graph (no `ref()` call: the test does not
    declare it). -#}
{% macro graph_model_relation(model_name) -%}
    {%- set node = graph.nodes.get('model.hatch_analytics.' ~ model_name) -%}
    {{ return(api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias).include(database=false)) }}
{%- endmacro %}
