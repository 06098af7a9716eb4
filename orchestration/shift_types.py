"""How each ``shift_type`` of ``marts.fct_sentiment_shifts`` reads, shared by the alerts'
messages (``alerts/events.py``) and the report (``reporting/html.py``). No imports, so either
can use it without importing the other."""

SHIFT_LABELS = {
    "customer_flip": "customer flip",
    "conversation_drop": "conversation drop",
    "conversation_recovery": "recovery after agent reply",
}
