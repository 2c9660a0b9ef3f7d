"""Optional LLM support: an OpenAI-compatible client (``client.py``); extractors build on it."""
