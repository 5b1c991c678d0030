"""kefu (客服): a self-hosted customer-service platform for Chinese-language teams."""

__version__ = "0.1.0"
