{#- One row per message id: its newest version by updated_at; a tie goes to the later export.
    message_at: the send time when known, else the earliest status time, else updated_at. -#}
{{ hatch_conversation_items_latest() }}
