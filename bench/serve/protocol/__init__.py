"""The OpenAI-compatible API as sitebench speaks it: one bounded HTTP boundary, SSE parsing,
the token-count bound, the prompts, the streaming client and the server probe."""
