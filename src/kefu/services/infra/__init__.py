"""Infrastructure under the use cases: the intake writer, rate limits, the token cache, cursors."""
