"""Text preparation before scoring: cleaning, and the cache key of a cleaned text."""
