"""/api/v1/kb: the knowledge base (知识库) — articles with their versions for editors, search for
staff — and /api/v1/public/kb: search and feedback for anyone (published articles only,
rate-limited per address)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, File, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import Field, StringConstraints
from sqlalchemy.orm import Session

from kefu.api.access import ANYONE, MANAGERS, STAFF, allow
from kefu.api.client_address import client_address
from kefu.api.deps import DB, CurrentActor
from kefu.api.schemas import ERRORS, In, Out, Patch
from kefu.services.kb import articles as kb
from kefu.services.kb import feedback, files, index
from kefu.services.kb.articles import ArticleFilter
from kefu.services.kb.feedback import KbLimits

router = APIRouter(prefix="/kb", tags=["knowledge base"], responses=ERRORS)
public_router = APIRouter(prefix="/public/kb", tags=["knowledge base (public)"], responses=ERRORS)

Key = Annotated[str, StringConstraints(pattern=kb.KEY.pattern)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50_000)]
Word = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Question = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Category = Literal[kb.CATEGORIES]  # type: ignore[valid-type]
Status = Literal[kb.STATUSES]  # type: ignore[valid-type]
Tags = Annotated[list[Word], Field(max_length=30)]
Synonyms = Annotated[list[Word], Field(max_length=50)]


class ArticlePublic(Out):
    key: str
    title: str
    body: str = Field(description="Markdown")
    category: str | None
    tags: list[str]
    synonyms: list[str]
    status: str = Field(description="draft | published | archived")
    current_version: int
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None


class ArticleVersionPublic(Out):
    number: int
    title: str
    body: str
    category: str | None
    tags: list[str]
    synonyms: list[str]
    author_id: int | None
    note: str
    created_at: datetime


class ArticleCreate(In):
    key: Key | None = Field(default=None, description="default: the next kb-NNN")
    title: Title
    body: Body
    category: Category | None = None
    tags: Tags = Field(default_factory=list)
    synonyms: Synonyms = Field(default_factory=list)
    status: Literal["draft", "published"] = "draft"
    note: Note = ""


class ArticleUpdate(Patch):
    not_null = frozenset({"title", "body", "tags", "synonyms"})

    title: Title | None = None
    body: Body | None = None
    category: Category | None = None
    tags: Tags | None = None
    synonyms: Synonyms | None = None
    note: Note = Field(default="", description="why: kept with the new version")


class ArticleStatusChange(In):
    status: Status


class ArticleRestore(In):
    version: Annotated[int, Field(ge=1, le=1_000_000)]


class KbHitPublic(Out):
    key: str
    title: str
    category: str | None
    score: float = Field(description="in [0, 1]: how likely the article answers the question")
    url: str = Field(description="the article on the self-service portal")


class KbSearchPublic(Out):
    answered: bool = Field(description="false: no article answers well enough")
    hits: list[KbHitPublic]


class KbVoteIn(In):
    key: Key
    helpful: bool
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] = ""


class KbVotePublic(Out):
    id: int
    token: str = Field(description="send it with a comment on this vote")


class KbCommentIn(In):
    key: Key
    id: Annotated[int, Field(ge=1, le=2**62)]
    token: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    comment: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


def _version(v: object) -> ArticleVersionPublic:
    content = getattr(v, "content", {})
    return ArticleVersionPublic(
        number=v.number, author_id=v.author_id, note=v.note, created_at=v.created_at,  # type: ignore[attr-defined]
        title=content.get("title", ""), body=content.get("body", ""),
        category=content.get("category"), tags=content.get("tags", []),
        synonyms=content.get("synonyms", []),
    )  # fmt: skip


def search_and_log(
    request: Request, db: Session, background: BackgroundTasks, question: str, *, source: str,
    k: int,
) -> index.Found:  # fmt: skip
    """Search; the log row is written after the response, in a transaction of its own."""
    found = index.search(db, question, source=source, k=k, log=False)
    background.add_task(index.write_log, request.app.state.session_factories.write, found.log)
    return found


def search_answer(found: index.Found) -> KbSearchPublic:
    hits = [
        KbHitPublic(
            key=a.key, title=a.title, category=a.category, score=score, url=f"/help/a/{a.key}"
        )
        for a, score in found.hits
    ]
    return KbSearchPublic(answered=found.answered, hits=hits)


@router.get("/articles", response_model=list[ArticlePublic], summary="Articles", **allow(*STAFF))
def list_articles(
    db: DB,
    actor: CurrentActor,
    status: Annotated[Status | None, Query()] = None,
    category: Annotated[Category | Literal["none"] | None, Query()] = None,
    q: Annotated[str, Query(max_length=100)] = "",
) -> list[ArticlePublic]:
    found = kb.list_articles(db, actor, ArticleFilter(status, category, q.strip()))
    return [ArticlePublic.model_validate(a) for a in found]


@router.post(
    "/articles", response_model=ArticlePublic, status_code=201, summary="Write an article",
    **allow(*MANAGERS),
)  # fmt: skip
def create_article(body: ArticleCreate, db: DB, actor: CurrentActor) -> ArticlePublic:
    return ArticlePublic.model_validate(kb.do_create_article(db, actor, **body.model_dump()))


@router.get("/export", summary="Every draft and published article, as a .zip of .md files",
            **allow(*MANAGERS))  # fmt: skip
def export_articles(db: DB, actor: CurrentActor) -> Response:
    data = files.export_zip(db, actor)
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": 'attachment; filename="kefu-kb.zip"'})  # fmt: skip


class KbImportReport(Out):
    created: int
    updated: int
    unchanged: int


@router.post("/import", response_model=KbImportReport,
             summary="Import .md files or .zip files of them (all or nothing)", **allow(*MANAGERS))  # fmt: skip
def import_articles(
    db: DB, actor: CurrentActor, files_: Annotated[list[UploadFile], File(alias="files")]
) -> KbImportReport:
    found = files.files_of_uploads((f.filename or "", f.file) for f in files_)
    report = files.do_import(db, actor, found)
    return KbImportReport(
        created=report.created, updated=report.updated, unchanged=report.unchanged
    )


@router.get("/search", response_model=KbSearchPublic, summary="Search published articles",
            **allow(*STAFF))  # fmt: skip
def search_articles(
    request: Request, db: DB, actor: CurrentActor, background: BackgroundTasks,
    q: Annotated[Question, Query()], k: Annotated[int, Query(ge=1, le=20)] = 5,
) -> KbSearchPublic:  # fmt: skip
    return search_answer(search_and_log(request, db, background, q, source="agent", k=k))


@router.get("/articles/{key}", response_model=ArticlePublic, summary="One article",
            **allow(*STAFF))  # fmt: skip
def get_article(key: Key, db: DB, actor: CurrentActor) -> ArticlePublic:
    return ArticlePublic.model_validate(kb.access_article(db, actor, key))


@router.patch("/articles/{key}", response_model=ArticlePublic,
              summary="Edit an article (a new version)", **allow(*MANAGERS))  # fmt: skip
def update_article(key: Key, body: ArticleUpdate, db: DB, actor: CurrentActor) -> ArticlePublic:
    article = kb.access_article(db, actor, key)
    changes = body.model_dump(exclude_unset=True, exclude={"note"})
    return ArticlePublic.model_validate(
        kb.do_update_article(db, actor, article, changes, note=body.note)
    )


@router.post("/articles/{key}/status", response_model=ArticlePublic,
             summary="Publish, unpublish (draft) or archive", **allow(*MANAGERS))  # fmt: skip
def set_status(key: Key, body: ArticleStatusChange, db: DB, actor: CurrentActor) -> ArticlePublic:
    article = kb.access_article(db, actor, key)
    return ArticlePublic.model_validate(kb.do_set_status(db, actor, article, body.status))


@router.get("/articles/{key}/versions", response_model=list[ArticleVersionPublic],
            summary="An article's versions, newest first", **allow(*MANAGERS))  # fmt: skip
def article_versions(key: Key, db: DB, actor: CurrentActor) -> list[ArticleVersionPublic]:
    article = kb.access_article(db, actor, key)
    return [_version(v) for v in kb.versions(db, article)]


@router.post("/articles/{key}/restore", response_model=ArticlePublic,
             summary="Save an old version again as the newest", **allow(*MANAGERS))  # fmt: skip
def restore_version(key: Key, body: ArticleRestore, db: DB, actor: CurrentActor) -> ArticlePublic:
    article = kb.access_article(db, actor, key)
    return ArticlePublic.model_validate(kb.do_restore_version(db, actor, article, body.version))


# --- public --------------------------------------------------------------------------------


def kb_limits(request: Request) -> KbLimits:
    return request.app.state.kb_limits  # type: ignore[no-any-return]


def visitor_address(request: Request) -> str:
    return client_address(request, request.app.state.settings.trusted_proxy_networks)


@public_router.get("/search", response_model=KbSearchPublic,
                   summary="Search the published articles (self-service)", **allow(*ANYONE))  # fmt: skip
def public_search(
    request: Request, db: DB, background: BackgroundTasks, q: Annotated[Question, Query()],
    k: Annotated[int, Query(ge=1, le=10)] = 5,
) -> KbSearchPublic:  # fmt: skip
    kb_limits(request).search(visitor_address(request))
    return search_answer(search_and_log(request, db, background, q, source="portal", k=k))


@public_router.post("/feedback", response_model=KbVotePublic, status_code=201,
                    summary="Did this article solve your problem?", **allow(*ANYONE))  # fmt: skip
def public_feedback(request: Request, body: KbVoteIn, db: DB) -> KbVotePublic:
    kb_limits(request).vote(visitor_address(request))
    article = kb.published_article(db, body.key)
    row = feedback.do_vote(db, article, helpful=body.helpful, source="portal", comment=body.comment)
    return KbVotePublic(
        id=row.id, token=feedback.feedback_token(request.app.state.settings.secret_key, row.id)
    )


@public_router.post("/feedback/comment", status_code=204,
                    summary="Add a comment to your vote", **allow(*ANYONE))  # fmt: skip
def public_comment(request: Request, body: KbCommentIn, db: DB) -> Response:
    kb_limits(request).vote(visitor_address(request))
    article = kb.published_article(db, body.key)
    feedback.do_comment(db, article, feedback_id=body.id, token=body.token, comment=body.comment,
                        secret=request.app.state.settings.secret_key)  # fmt: skip
    return Response(status_code=204)
