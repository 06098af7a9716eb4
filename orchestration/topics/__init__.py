"""Keyword-level (topic) sentiment: topics.yml, matching, and the ``message_topics`` pass."""
