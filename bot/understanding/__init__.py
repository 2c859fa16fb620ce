"""Understanding a citizen's message: which topic it means and which facets it asks about.

- `matcher`: ranks the knowledge base's topics for one message (key terms, BM25 over the
  phrasings, fuzzy similarity) and decides: accept, clarify or none;
- `facets`: which of documents, fee, time, where, online, who the message asks about.

Pure: the index is built once from a loaded knowledge base, then only read.
"""
