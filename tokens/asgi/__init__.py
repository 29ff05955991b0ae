"""The ASGI layer in front of Django: response cache, batched admission and the per-IP throttle, HTTP metrics."""
