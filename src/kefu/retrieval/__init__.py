"""Finding the knowledge-base article that answers a customer's question (检索).

Pure text processing, like ``kefu.nlp``: no web, no SQL. ``engine.Index`` is built from
``engine.Doc`` rows and answers ``search(question)`` with ranked articles, each with a score,
and a decision whether any of them answers the question at all. ``folder`` reads and writes a
knowledge base as a folder of Markdown files; ``evaluate`` scores an index on labelled questions.
"""
