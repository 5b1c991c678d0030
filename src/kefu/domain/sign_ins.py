"""How a signed-in browser is shown to its owner on the list of their sessions: the browser and
system its User-Agent names, and the address it signed in from, partly masked (the network
recognisable, the machine not)."""

from __future__ import annotations

import ipaddress
import re

# Checked in order: Edge and Opera say "Chrome" too, Chrome says "Safari".
_BROWSERS = (
    ("微信", re.compile(r"MicroMessenger/(\d+)")),
    ("Edge", re.compile(r"Edg(?:e|A|iOS)?/(\d+)")),
    ("Opera", re.compile(r"OPR/(\d+)")),
    ("Firefox", re.compile(r"(?:Firefox|FxiOS)/(\d+)")),
    ("Chrome", re.compile(r"(?:Chrome|CriOS)/(\d+)")),
    ("Safari", re.compile(r"Version/(\d+)[.\d]* (?:Mobile/\w+ )?Safari/")),
)
_SYSTEMS = (
    ("Android", re.compile(r"Android")),
    ("iOS", re.compile(r"iPhone|iPad|iPod")),
    ("Windows", re.compile(r"Windows")),
    ("macOS", re.compile(r"Mac OS X|Macintosh")),
    ("ChromeOS", re.compile(r"CrOS")),
    ("Linux", re.compile(r"Linux")),
)
_PROGRAM = re.compile(r"^([A-Za-z][\w.-]{0,30})/(\d+)")  # curl/8.5, python-httpx/0.27


def describe_browser(user_agent: str) -> str:
    """ "Chrome 120 · Windows", "Safari 17 · iOS", "curl 8"; "" when nothing is recognised."""
    browser = next(
        (
            f"{name} {m.group(1)}"
            for name, pattern in _BROWSERS
            if (m := pattern.search(user_agent))
        ),
        "",
    )
    system = next((name for name, pattern in _SYSTEMS if pattern.search(user_agent)), "")
    if not browser and not system:
        program = _PROGRAM.match(user_agent.strip())
        return f"{program.group(1)} {program.group(2)}" if program else ""
    return " · ".join(part for part in (browser or user_agent.split("/")[0][:30], system) if part)


def mask_address(address: str) -> str:
    """The address with its machine part hidden: 203.0.113.* (IPv4), 2001:db8:1:* (IPv6, its
    first 48 bits); "" for what is not an address."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv4Address):
        return ".".join(str(ip).split(".")[:3]) + ".*"
    groups = ip.exploded.split(":")[:3]
    return ":".join(g.lstrip("0") or "0" for g in groups) + ":*"
