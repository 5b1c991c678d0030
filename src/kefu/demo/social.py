"""The demo's social listening: two days of public posts about the shop on Weibo, Douyin and
Xiaohongshu — mostly ordinary questions and praise — then, in the last hour, a burst of
complaints about late deliveries and one post threatening 12315 and the press. They go through
the same intake as real posts (services/social/intake.py), so the listening page shows the
alerts the rule raises for them: one for the logistics burst, one crisis."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from kefu.services.social.intake import receive_post
from kefu.services.social.posts import parse_post

HOURS = 48
PLATFORMS = ("weibo", "douyin", "xiaohongshu")
ORDINARY = (
    "请问这款面霜适合干皮吗？",
    "包装很用心，好评",
    "客服小姐姐很耐心，点赞",
    "双十二有什么活动吗",
    "回购第三次了，质量一直很稳定",
    "实物颜色比图片好看",
    "第一次买，物流挺快的",
    "这个价格有点贵，等等降价",
    "用了两周皮肤确实好了一点",
    "有没有小样可以先试试",
)
COMPLAINTS = (
    "快递一个星期还没到，物流信息也不更新，差评！",
    "物流太慢了，气死我了，再也不买了",
    "等了十天还没收到货，客服只会说在催，太失望了",
    "下单一周了还显示待揽收，你们到底发没发货？",
)
CRISIS = "孩子用了你们的面霜过敏住院了，我要向12315投诉，还要找媒体曝光！"


def load_demo_mentions(session: Session, rng: random.Random, now: datetime) -> int:
    """Write the demo's mentions (in the caller's transaction); how many."""
    posts: list[tuple[datetime, str, str]] = []
    for hour in range(HOURS, 1, -1):
        for _ in range(rng.randint(1, 3)):
            at = now - timedelta(hours=hour, minutes=rng.randint(0, 59))
            posts.append((at, rng.choice(PLATFORMS), rng.choice(ORDINARY)))
    posts.sort()
    for k in range(8):
        at = now - timedelta(minutes=55 - 6 * k)
        posts.append((at, "douyin" if k % 2 else "weibo", COMPLAINTS[k % len(COMPLAINTS)]))
    posts.append((now - timedelta(minutes=4), "weibo", CRISIS))
    for n, (at, platform, text) in enumerate(posts, start=1):
        post = parse_post(
            {
                "platform": platform,
                "id": f"demo-{n}",
                "url": f"https://{platform}.example.cn/p/{n}",
                "author": {"handle": f"demo_fan_{n}", "name": f"网友{n:03d}"},
                "text": text,
                "posted_at": at.isoformat(),
            }
        )
        # Told in the workspace only: the demo's staff addresses are not real.
        receive_post(session, post, source="demo", received_at=at, mail=False)
    return len(posts)
