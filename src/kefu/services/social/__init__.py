"""Social listening (舆情预警): mentions, their alerts, cases made of them and the feeds polled for them."""
