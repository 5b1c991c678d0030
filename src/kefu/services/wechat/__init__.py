"""The WeChat Official Account channel's use cases: accounts, the shared access token, the
callback, media fetching and the 48-hour reply window."""
