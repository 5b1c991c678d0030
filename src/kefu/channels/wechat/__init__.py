"""The WeChat Official Account (公众号) channel: the callback's signatures and message crypto,
its XML messages to and from kefu's message model, and the API client for replies."""
