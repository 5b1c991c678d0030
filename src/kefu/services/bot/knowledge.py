"""Where the bot finds its answers: a small protocol, and one source over a folder of articles.

The bot answers from the published knowledge base (``KbKnowledge``: the live index of
services/kb, each search logged as the bot's); ``FolderKnowledge`` indexes a folder of Markdown
articles instead (a knowledge base kept outside the database). The bot gets its source from
``knowledge_source()`` alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from sqlalchemy.orm import Session

from kefu.domain.bot import Article
from kefu.retrieval.engine import Index, doc_of
from kefu.retrieval.folder import read_folder
from kefu.services.kb import index as kb_index

DEMO_KB = Path(__file__).resolve().parents[2] / "demo" / "data" / "kb"
OFFERED = 5  # hits looked at per question: the best and the next ones after a 没解决


@dataclass(frozen=True)
class ArticleAnswer:
    key: str
    title: str
    body_markdown: str
    url: str
    score: float

    def article(self) -> Article:
        return Article(self.key, self.title, self.body_markdown, self.url, self.score)


class KnowledgeSource(Protocol):
    def search(self, session: Session, question: str) -> tuple[list[ArticleAnswer], bool]:
        """Articles best first, and whether the best answers the question well enough to
        offer (False: no good answer)."""
        ...


def article_url(key: str) -> str:
    """The article's page on the self-service portal."""
    return f"/help/a/{key}"


class FolderKnowledge:
    """The published articles of a folder (kefu.retrieval.folder), indexed once in memory."""

    def __init__(self, folder: Path) -> None:
        articles = [a for a in read_folder(folder) if a.status == "published"]
        self._articles = {a.id: a for a in articles}
        self._index = Index.build(doc_of(a) for a in articles)

    def search(self, session: Session, question: str) -> tuple[list[ArticleAnswer], bool]:
        result = self._index.search(question, k=OFFERED)
        answers = []
        for hit in result.hits:
            article = self._articles[hit.id]
            answers.append(
                ArticleAnswer(
                    article.id, article.title, article.body, article_url(article.id), hit.score
                )
            )
        return answers, result.answered


class KbKnowledge:
    """The published articles of the knowledge base, as every process's live index has them."""

    def search(self, session: Session, question: str) -> tuple[list[ArticleAnswer], bool]:
        found = kb_index.search(session, question, source="bot", k=OFFERED)
        answers = [
            ArticleAnswer(a.key, a.title, a.body, article_url(a.key), score)
            for a, score in found.hits
        ]
        return answers, found.answered


@lru_cache(maxsize=1)
def knowledge_source() -> KnowledgeSource:
    """The bot's source of answers: the knowledge base."""
    return KbKnowledge()
