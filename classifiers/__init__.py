"""Vietnamese text handling and the BHXH classifier (relevance, sentiment, misleading, category)."""
