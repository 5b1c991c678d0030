"""``parse_scenario``: a scenario from its plain data (as YAML gives it), refused with every
problem listed, in Chinese, where a team writing one would look for it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kefu.domain.tickets import Channel
from kefu.domain.training.scenario import (
    EMOTION_CHANGES,
    ENDINGS,
    REACTIONS,
    Goal,
    Persona,
    Reaction,
    Scenario,
    State,
)
from kefu.domain.triage_labels import Emotion

TOP_FIELDS = (
    "id",
    "title",
    "industry",
    "channel",
    "case_type",
    "persona",
    "goals",
    "opening",
    "start",
    "patience_out",
    "states",
)
EMOTIONS = tuple(e.value for e in Emotion)


class ScenarioError(ValueError):
    """A scenario that cannot run; ``problems`` lists every reason."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "；".join(problems))


def parse_scenario(raw: Any, *, source: str = "scenario") -> Scenario:
    problems: list[str] = []
    if not isinstance(raw, Mapping):
        raise ScenarioError(source, ["场景文件的顶层必须是键值表"])
    for name in TOP_FIELDS:
        if name not in raw:
            problems.append(f"缺少字段 {name}")
    for name in raw:
        if name not in TOP_FIELDS:
            problems.append(f"未知字段 {name}")
    if problems:
        raise ScenarioError(source, problems)
    persona = _persona(raw["persona"], problems)
    goals = _goals(raw["goals"], problems)
    states = _states(raw["states"], problems)
    patience_out = _reaction(raw["patience_out"], "patience_out", problems)
    for name in ("id", "title", "industry", "case_type", "opening", "start"):
        _text(raw[name], name, problems)
    if raw["channel"] not in {c.value for c in Channel}:
        problems.append(f"channel「{raw['channel']}」不是已知渠道")
    if not problems and patience_out is not None:
        problems.extend(_graph_problems(str(raw["start"]), states, patience_out))
    if problems:
        raise ScenarioError(source, problems)
    assert persona is not None and patience_out is not None
    return Scenario(
        id=str(raw["id"]),
        title=str(raw["title"]),
        industry=str(raw["industry"]),
        channel=str(raw["channel"]),
        case_type=str(raw["case_type"]),
        persona=persona,
        goals=goals,
        opening=str(raw["opening"]).strip(),
        start=str(raw["start"]),
        patience_out=patience_out,
        states=states,
    )


def _text(value: Any, where: str, problems: list[str]) -> str:
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where} 必须是非空文字")
        return ""
    return value.strip()


def _persona(raw: Any, problems: list[str]) -> Persona | None:
    if not isinstance(raw, Mapping):
        problems.append("persona 必须包含 name、emotion、patience")
        return None
    name = _text(raw.get("name"), "persona.name", problems)
    emotion = raw.get("emotion")
    if emotion not in EMOTIONS:
        problems.append(f"persona.emotion「{emotion}」不是情绪标签（{'、'.join(EMOTIONS)}）")
        return None
    patience = raw.get("patience")
    if not isinstance(patience, int) or isinstance(patience, bool) or not 1 <= patience <= 5:
        problems.append("persona.patience 必须是 1–5 的整数")
        return None
    return Persona(name=name, emotion=Emotion(emotion), patience=patience)


def _goals(raw: Any, problems: list[str]) -> tuple[Goal, ...]:
    if not isinstance(raw, list) or not raw:
        problems.append("goals 必须是非空列表")
        return ()
    goals = []
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping):
            problems.append(f"goals 第 {i + 1} 项必须包含 id 和 text")
            continue
        goals.append(
            Goal(
                id=_text(item.get("id"), f"goals[{i + 1}].id", problems),
                text=_text(item.get("text"), f"goals[{i + 1}].text", problems),
            )
        )
    return tuple(goals)


def _reaction(raw: Any, where: str, problems: list[str]) -> Reaction | None:
    if not isinstance(raw, Mapping):
        problems.append(f"{where} 必须包含 say 和 next")
        return None
    unknown = set(raw) - {"say", "next", "emotion"}
    if unknown:
        problems.append(f"{where} 有未知字段 {'、'.join(sorted(map(str, unknown)))}")
    say = _text(raw.get("say"), f"{where}.say（客户台词）", problems)
    following = _text(raw.get("next"), f"{where}.next", problems)
    emotion = raw.get("emotion", "same")
    if emotion not in EMOTION_CHANGES and emotion not in EMOTIONS:
        problems.append(f"{where}.emotion「{emotion}」应为 rise、fall、same 或情绪标签")
        emotion = "same"
    return Reaction(say=say, next=following, emotion=str(emotion))


def _states(raw: Any, problems: list[str]) -> dict[str, State]:
    if not isinstance(raw, Mapping) or not raw:
        problems.append("states 必须是非空的状态表")
        return {}
    states = {}
    for state_id, body in raw.items():
        where = f"状态 {state_id}"
        if not isinstance(body, Mapping):
            problems.append(f"{where} 必须是键值表")
            continue
        unknown = set(body) - {"end", "reactions", "model_reply"}
        if unknown:
            problems.append(f"{where} 有未知字段 {'、'.join(sorted(map(str, unknown)))}")
        end = body.get("end")
        reactions: dict[str, Reaction] = {}
        if end is not None:
            if end not in ENDINGS:
                problems.append(f"{where}.end「{end}」应为 resolved 或 escalated")
            if body.get("reactions"):
                problems.append(f"{where} 是结束状态，不能再有 reactions")
        else:
            reactions = _reactions(body.get("reactions"), where, problems)
        model_reply = body.get("model_reply")
        if model_reply is not None:
            model_reply = _text(model_reply, f"{where}.model_reply", problems)
        states[str(state_id)] = State(
            id=str(state_id), reactions=reactions, end=end, model_reply=model_reply
        )
    return states


def _reactions(raw: Any, where: str, problems: list[str]) -> dict[str, Reaction]:
    if not isinstance(raw, Mapping):
        problems.append(f"{where} 既不是结束状态（end），也没有 reactions")
        return {}
    reactions = {}
    for name, body in raw.items():
        if name not in REACTIONS:
            problems.append(f"{where} 的反应「{name}」未知（可用：{'、'.join(REACTIONS)}）")
            continue
        reaction = _reaction(body, f"{where}.{name}", problems)
        if reaction is not None:
            reactions[name] = reaction
    if "other" not in raw:
        problems.append(f"{where} 缺少 other 反应（回复不属于任何一类时客户说什么）")
    return reactions


def _graph_problems(start: str, states: dict[str, State], patience_out: Reaction) -> list[str]:
    """Unknown targets, unreachable states, and the two endings a drill needs."""
    problems = []
    edges = {s.id: [r.next for r in s.reactions.values()] for s in states.values()}
    for state in states.values():
        for name, reaction in state.reactions.items():
            if reaction.next not in states:
                problems.append(f"状态 {state.id}.{name} 指向未知状态 {reaction.next}")
    if patience_out.next not in states:
        problems.append(f"patience_out 指向未知状态 {patience_out.next}")
    if start not in states:
        problems.append(f"start 指向未知状态 {start}")
    if problems:
        return problems
    reached = _reachable([start, patience_out.next], edges)
    for state_id in states:
        if state_id not in reached:
            problems.append(f"状态 {state_id} 无法到达")
    for ending in ENDINGS:
        if not any(s.end == ending and s.id in reached for s in states.values()):
            problems.append(f"没有可到达的 {ending} 结束状态")
    return problems


def _reachable(roots: list[str], edges: dict[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        state_id = todo.pop()
        if state_id not in seen:
            seen.add(state_id)
            todo.extend(edges.get(state_id, []))
    return seen
