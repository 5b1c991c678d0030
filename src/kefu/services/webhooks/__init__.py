"""Webhooks: events posted to kefu by sources (phone, SMS, app reviews, social posts) and kefu's
own events posted to integrations' subscriptions."""
