"""The reply-script library's pure rules (话术库): placeholders, composition and ranking."""
