"""The knowledge base (知识库): articles and versions, import/export, the live index, measures."""
