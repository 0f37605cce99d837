{#- One row per contact_history_id: its newest version by updated_at; a tie goes to the later export.
    The SQL sits in the macro `hatch_contact_history_latest`, shared with the incremental
    `int_hatch__contact_history`. -#}
{{ hatch_contact_history_latest() }}
