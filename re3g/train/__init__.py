"""Fine-tuning of the reranker, span extractor and generator (``re3g train ...``)."""
