import httpx


def test_every_answer_says_how_long_kefu_took(anon: httpx.Client) -> None:
    for path in ("/healthz", "/login", "/api/v1/no-such-route"):
        header = anon.get(path).headers["server-timing"]
        name, _, duration = header.partition(";dur=")
        assert name == "app"
        assert 0 < float(duration) < 60_000
